import { cutPoint, lineSplitter, MAX_LINE_CHARS } from '../../src/scheduler/line-splitter.js'

describe('lineSplitter', () => {
  it('joins chunks into lines per stream, keeps order, and cuts no character in two', () => {
    const lines: string[] = []
    const { push, flush } = lineSplitter((stream, text) =>
      lines.push(...text.split('\n').map((line) => `${stream}:${line}`))
    )
    const euro = Buffer.from('€')
    push('stdout', Buffer.from('hel'))
    push('stderr', Buffer.from('oops\r\n'))
    push('stdout', Buffer.concat([Buffer.from('lo '), euro.subarray(0, 1)]))
    push('stdout', Buffer.concat([euro.subarray(1), Buffer.from('\nsecond\nta')]))
    flush()
    expect(lines).toEqual(['stderr:oops', 'stdout:hello €', 'stdout:second', 'stdout:ta'])
  })

  it("hands on a chunk's whole lines in one call, CRLF ends made LF, the unfinished one kept", () => {
    const calls: string[] = []
    const { push, flush } = lineSplitter((_stream, text) => calls.push(text))
    push('stdout', Buffer.from('one\r\ntwo\n\nthree\r\nfou'))
    push('stdout', Buffer.from('r\r'))
    push('stdout', Buffer.from('\n'))
    push('stdout', Buffer.from('\r no end'))
    flush()
    expect(calls).toEqual(['one\ntwo\n\nthree', 'four', '\r no end'])
  })

  it('hands over a line with no end in pieces of at most MAX_LINE_CHARS', () => {
    const lines: string[] = []
    const { push, flush } = lineSplitter((_stream, text) => lines.push(...text.split('\n')))
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

describe('lineSplitter with secrets', () => {
  it('keeps a secret whole when a 64 KiB read ends inside it', () => {
    const lines: string[] = []
    const secret = 'tok-4815162342'
    const { push, flush } = lineSplitter(
      (_stream, text) => lines.push(...text.split('\n')),
      [secret]
    )
    push('stdout', Buffer.from(`${'L'.repeat(MAX_LINE_CHARS - 7)}${secret.slice(0, 7)}`))
    push('stdout', Buffer.from(`${secret.slice(7)}\n`))
    flush()
    expect(lines).toEqual(['L'.repeat(MAX_LINE_CHARS - 7), secret])
  })
})

describe('cutPoint', () => {
  const M = MAX_LINE_CHARS
  const TOKEN = 'S3cr3tT0ken'
  it.each<[string, string, string[], number]>([
    ['no secrets: at the limit', 'x'.repeat(M + 10), [], M],
    ['a secret away from the cut', `${TOKEN}${'x'.repeat(M)}`, [TOKEN], M],
    ['a secret ending at the cut', `${'x'.repeat(M - TOKEN.length)}${TOKEN}xx`, [TOKEN], M],
    ['a secret straddling the cut: before it', `${'L'.repeat(M - 7)}${TOKEN}`, [TOKEN], M - 7],
    ['a secret starting at the cut', `${'x'.repeat(M)}${TOKEN}`, [TOKEN], M],
    // A 64 KiB pipe read ends inside the secret: the rest of it comes in the next chunk.
    [
      'the text ends in the start of a secret across the cut: before it',
      `${'L'.repeat(M - 7)}${TOKEN.slice(0, 7)}`,
      [TOKEN],
      M - 7
    ],
    [
      'the text ends in the start of a secret after the cut: at the limit',
      `${'x'.repeat(M)}${TOKEN.slice(0, 4)}`,
      [TOKEN],
      M
    ],
    [
      'a start of a secret that the text goes on past: at the limit',
      `${'L'.repeat(M - 3)}${TOKEN.slice(0, 3)}X`,
      [TOKEN],
      M
    ],
    [
      'moved into a second secret: before that one too',
      `${'x'.repeat(M - 8)}KEYA${TOKEN}yyyy`,
      [TOKEN, `A${TOKEN.slice(0, 3)}`],
      M - 8 + 3
    ],
    [
      'a secret longer than the limit at the start: after it',
      'k'.repeat(M + 5),
      ['k'.repeat(M + 2)],
      M + 2
    ]
  ])('%s', (_name, text, secrets, cut) => {
    expect(cutPoint(text, secrets)).toBe(cut)
  })

  it('a line cut around a secret hands it over whole', () => {
    const lines: string[] = []
    const { push, flush } = lineSplitter(
      (_stream, text) => lines.push(...text.split('\n')),
      [TOKEN]
    )
    // As a pipe delivers it: the line's end comes in a later chunk.
    push('stdout', Buffer.from(`${'L'.repeat(M - 7)}${TOKEN}`))
    push('stdout', Buffer.from('\n'))
    flush()
    expect(lines.map((l) => l.length)).toEqual([M - 7, TOKEN.length])
    expect(lines[1]).toBe(TOKEN)
  })
})
