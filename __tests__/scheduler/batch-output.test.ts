import { batchOutput } from '../../src/scheduler/batch-output.js'
import type { OutputStream } from '../../src/backend/backend.js'

const M = '::m::'

/** Feeds chunks (stream, text) and returns what was handed on, in order. */
function read(chunks: Array<[OutputStream, string]>) {
  const events: string[] = []
  const output = batchOutput(
    M,
    (stream, text) =>
      events.push(...text.split('\n').map((l) => `${stream === 'stdout' ? 'out' : 'err'} ${l}`)),
    (end) => events.push(`end ${end.stage}:${end.exitCode}`)
  )
  for (const [stream, text] of chunks) output.push(stream, Buffer.from(text))
  output.flush()
  return { events, ended: output.ended() }
}

describe('batchOutput', () => {
  it.each<[string, Array<[OutputStream, string]>, string[]]>([
    [
      'a stage ends once both streams pass its marker',
      [
        ['stdout', `a\n\n${M} 0 0 0\n`],
        ['stderr', `e\n\n${M} 0 0 0\n`]
      ],
      ['out a', 'err e', 'end 0:0']
    ],
    [
      'lines of the next stage wait for the slower stream',
      [
        ['stdout', `a\n\n${M} 0 0 0\nb\n`],
        ['stderr', `late\n`],
        ['stderr', `\n${M} 0 0 0\n`],
        ['stdout', `\n${M} 1 0 0\n`],
        ['stderr', `\n${M} 1 0 0\n`]
      ],
      ['out a', 'err late', 'end 0:0', 'out b', 'end 1:0']
    ],
    [
      "a stage's own blank lines are kept, the driver's newline is not",
      [
        ['stdout', `\n\nx\n\n${M} 0 0 0\n`],
        ['stderr', `\n${M} 0 0 0\n`]
      ],
      ['out ', 'out ', 'out x', 'end 0:0']
    ],
    [
      'an unterminated last line ends at the marker',
      [
        ['stdout', `tail`],
        ['stdout', `\n${M} 0 2 0\n`],
        ['stderr', `\n${M} 0 2 0\n`]
      ],
      ['out tail', 'end 0:2']
    ],
    [
      'a marker out of turn is output like any line',
      [
        ['stdout', `${M} 5 0 0\n\n${M} 0 0 0\n`],
        ['stderr', `\n${M} 0 0 0\n`]
      ],
      [`out ${M} 5 0 0`, 'end 0:0']
    ],
    [
      'two stages in one chunk, their own blank lines kept, the later one held for stderr',
      [
        ['stdout', `a\n\n\n${M} 0 0 0\n\nb\n\n${M} 1 0 0\nc`],
        ['stderr', `\n${M} 0 0 0\n\n${M} 1 3 0\n`]
      ],
      ['out a', 'out ', 'end 0:0', 'out ', 'out b', 'end 1:3', 'out c']
    ],
    [
      'a stage that never ends keeps its lines (flushed at the end)',
      [
        ['stdout', `\n${M} 0 0 0\nrunning\npartial`],
        ['stderr', `\n${M} 0 0 0\n`]
      ],
      ['end 0:0', 'out running', 'out partial']
    ]
  ])('%s', (_name, chunks, expected) => {
    expect(read(chunks).events).toEqual(expected)
  })

  it("hands on a chunk's lines in one call per stage, not one per line", () => {
    const calls: string[] = []
    const output = batchOutput(
      M,
      (_stream, text) => calls.push(text),
      () => calls.push('end')
    )
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n')
    output.push('stderr', Buffer.from(`\n${M} 0 0 0\n`))
    output.push('stdout', Buffer.from(`${lines}\n\n${M} 0 0 0\n${lines}\n`))
    output.flush()
    expect(calls).toEqual([lines, 'end', lines])
  })

  it('counts the stages both streams passed', () => {
    expect(read([['stdout', `\n${M} 0 0 0\n`]]).ended).toBe(0)
  })
})
