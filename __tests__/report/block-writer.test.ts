import { PassThrough } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { BlockWriter } from '../../src/report/block-writer.js'

/** A sink that records each write, as a pipe nobody reads would queue it. */
function sink() {
  const stream = new PassThrough({ highWaterMark: 16 })
  const writes: string[] = []
  const write = stream.write.bind(stream)
  stream.write = ((text: string) => {
    writes.push(text)
    return write(text)
  }) as typeof stream.write
  return { stream, writes }
}

describe('BlockWriter', () => {
  it('writes the lines of one turn in one write, at the end of the turn', async () => {
    const { stream, writes } = sink()
    const lines = new BlockWriter(stream)
    lines.line('a')
    lines.line('b')
    expect(writes).toEqual([])
    await nextTurn()
    expect(writes).toEqual(['a\nb\n'])
  })

  it('writes at once when a block is full', () => {
    const { stream, writes } = sink()
    const lines = new BlockWriter(stream)
    const long = 'x'.repeat(40 * 1024)
    lines.line(long)
    lines.line(long)
    expect(writes).toEqual([`${long}\n${long}\n`])
  })

  it('flush writes what it holds now', () => {
    const { stream, writes } = sink()
    const lines = new BlockWriter(stream)
    lines.line('a')
    lines.flush()
    lines.flush()
    expect(writes).toEqual(['a\n'])
  })

  it('asks producers to wait while the stream is behind, until it drains', async () => {
    const { stream } = sink()
    const lines = new BlockWriter(stream)
    expect(lines.backlog()).toBeUndefined()
    const block = 'y'.repeat(64 * 1024)
    for (let i = 0; i < 20; i++) lines.line(block)
    const waiting = lines.backlog()
    expect(waiting).toBeInstanceOf(Promise)
    expect(lines.backlog()).toBe(waiting)
    let drained = false
    void waiting!.then(() => (drained = true))
    await nextTurn()
    expect(drained).toBe(false)
    stream.resume()
    await waiting
    expect(lines.backlog()).toBeUndefined()
  })

  it('stops asking producers to wait when the stream goes away', async () => {
    const { stream } = sink()
    const lines = new BlockWriter(stream)
    for (let i = 0; i < 20; i++) lines.line('z'.repeat(64 * 1024))
    const waiting = lines.backlog()
    expect(waiting).toBeInstanceOf(Promise)
    stream.destroy()
    await waiting
  })
})
