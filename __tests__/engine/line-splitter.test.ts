import { lineSplitter, MAX_LINE_CHARS } from '../../src/engine/line-splitter.js'

describe('lineSplitter', () => {
  it('joins chunks into lines per stream, keeps order, and cuts no character in two', () => {
    const lines: string[] = []
    const { push, flush } = lineSplitter((stream, line) => lines.push(`${stream}:${line}`))
    const euro = Buffer.from('€')
    push('stdout', Buffer.from('hel'))
    push('stderr', Buffer.from('oops\r\n'))
    push('stdout', Buffer.concat([Buffer.from('lo '), euro.subarray(0, 1)]))
    push('stdout', Buffer.concat([euro.subarray(1), Buffer.from('\nsecond\nta')]))
    flush()
    expect(lines).toEqual(['stderr:oops', 'stdout:hello €', 'stdout:second', 'stdout:ta'])
  })

  it('hands over a line with no end in pieces of at most MAX_LINE_CHARS', () => {
    const lines: string[] = []
    const { push, flush } = lineSplitter((_stream, line) => lines.push(line))
    const chunk = Buffer.from('x'.repeat(10_000))
    for (let i = 0; i < 20; i++) push('stdout', chunk)
    push('stdout', Buffer.from('\n'))
    flush()
    expect(lines.map((l) => l.length)).toEqual([
      MAX_LINE_CHARS,
      MAX_LINE_CHARS,
      MAX_LINE_CHARS,
      200_000 - 3 * MAX_LINE_CHARS
    ])
  })
})
