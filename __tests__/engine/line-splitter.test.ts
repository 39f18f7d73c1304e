import { lineSplitter } from '../../src/engine/line-splitter.js'

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
})
