import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { InstanceLogs } from '../../src/report/instance-logs.js'

const logs = () => new InstanceLogs(mkdtempSync(path.join(tmpdir(), 'ctr-logs-test-')))

describe('InstanceLogs', () => {
  it("keeps each instance's lines apart and gives the last ones", async () => {
    const kept = logs()
    for (let i = 1; i <= 100; i++) kept.append(i % 2 ? 'odd' : 'even', `line ${i}`)
    expect(await kept.tail('odd', 3)).toBe('line 95\nline 97\nline 99')
    expect(await kept.tail('even', 2)).toBe('line 98\nline 100')
  })

  it('reads at most maxBytes from the end, dropping a line cut in two', async () => {
    const kept = logs()
    kept.append('big', 'x'.repeat(100))
    kept.append('big', 'short')
    kept.append('big', 'last')
    expect(await kept.tail('big', 10, 20)).toBe('short\nlast')
  })

  it('gives nothing for an instance that logged nothing, and appends after a tail', async () => {
    const kept = logs()
    expect(await kept.tail('silent', 5)).toBe('')
    kept.append('late', 'one')
    expect(await kept.tail('late', 5)).toBe('one')
    kept.append('late', 'two')
    expect(await kept.tail('late', 5)).toBe('one\ntwo')
  })

  it.each([
    // [lines appended, maxBytes, what read gives]
    [['a', 'b'], 100, { text: 'a\nb', size: 4, cut: false }],
    [['x'.repeat(10), 'short', 'last'], 11, { text: 'last', size: 22, cut: true }],
    [['x'.repeat(10), 'short', 'last'], 12, { text: 'short\nlast', size: 22, cut: true }],
    [['x'.repeat(30)], 10, { text: '', size: 31, cut: true }],
    [[], 10, { text: '', size: 0, cut: false }]
  ])('read of %j within %i bytes', async (lines, maxBytes, expected) => {
    const kept = logs()
    for (const line of lines) kept.append('one', line)
    expect(await kept.read('one', maxBytes)).toEqual(expected)
  })

  it('a read while a close is under way waits for the file to have every line', async () => {
    const kept = logs()
    kept.append('ending', 'x'.repeat(100_000))
    kept.append('ending', 'last line')
    const closing = kept.close('ending')
    expect((await kept.read('ending', 20)).text).toBe('last line')
    await closing
    kept.append('ending', 'after the close')
    expect(await kept.tail('ending', 2)).toBe('last line\nafter the close')
  })

  it('remove closes the open logs and removes their folder', async () => {
    const kept = logs()
    kept.append('open', 'still being written')
    await kept.remove()
    expect(existsSync(kept.dir)).toBe(false)
  })
})
