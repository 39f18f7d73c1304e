import { describe, expect, it } from '@jest/globals'
import { HELD_LIMIT_CHARS, JobGroups } from '../../src/report/job-groups.js'

type Step = ['start', string] | ['line', string | undefined, string] | ['finish', string] | ['end']

/** Plays steps on a JobGroups over a sink that records `open T`, `close` and lines. */
function play(steps: Step[], limitChars?: number): string[] {
  const log: string[] = []
  const groups = new JobGroups(
    {
      line: (text) => log.push(text),
      open: (title) => log.push(`open ${title}`),
      close: () => log.push('close')
    },
    limitChars
  )
  for (const step of steps) {
    if (step[0] === 'start') groups.started(step[1], `job ${step[1]}`)
    else if (step[0] === 'line') groups.line(step[1], step[2])
    else if (step[0] === 'finish') groups.finished(step[1])
    else groups.end()
  }
  return log
}

describe('JobGroups', () => {
  it.each<[string, Step[], string[], number?]>([
    [
      'one job: its group holds its lines',
      [
        ['start', 'a'],
        ['line', 'a', 'a1'],
        ['line', 'a', 'a2'],
        ['finish', 'a']
      ],
      ['open job a', 'a1', 'a2', 'close']
    ],
    [
      'a job that ends while another is live is written whole, the live group reopened',
      [
        ['start', 'a'],
        ['line', 'a', 'a1'],
        ['start', 'b'],
        ['line', 'b', 'b1'],
        ['line', 'a', 'a2'],
        ['line', 'b', 'b2'],
        ['finish', 'b'],
        ['line', 'a', 'a3'],
        ['finish', 'a']
      ],
      [
        'open job a',
        'a1',
        'a2',
        'close',
        'open job b',
        'b1',
        'b2',
        'close',
        'open job a (continued)',
        'a3',
        'close'
      ]
    ],
    [
      'when the live job ends, the next one started is live, its lines so far first',
      [
        ['start', 'a'],
        ['start', 'b'],
        ['start', 'c'],
        ['line', 'b', 'b1'],
        ['line', 'c', 'c1'],
        ['finish', 'a'],
        ['line', 'b', 'b2'],
        ['line', 'c', 'c2'],
        ['finish', 'b'],
        ['finish', 'c']
      ],
      ['open job a', 'close', 'open job b', 'b1', 'b2', 'close', 'open job c', 'c1', 'c2', 'close']
    ],
    [
      "the run's own lines are written at once",
      [
        ['line', undefined, 'run r1'],
        ['start', 'a'],
        ['start', 'b'],
        ['line', undefined, 'note'],
        ['finish', 'b'],
        ['finish', 'a']
      ],
      [
        'run r1',
        'open job a',
        'note',
        'close',
        'open job b',
        'close',
        'open job a (continued)',
        'close'
      ]
    ],
    [
      'waiting lines past the limit are written early, and the rest later',
      [
        ['start', 'a'],
        ['start', 'b'],
        ['line', 'b', 'b-one'],
        ['line', 'b', 'b-two'],
        ['line', 'b', 'b3'],
        ['finish', 'b'],
        ['finish', 'a']
      ],
      [
        'open job a',
        'close',
        'open job b',
        'b-one',
        'b-two',
        'close',
        'open job a (continued)',
        'close',
        'open job b (continued)',
        'b3',
        'close',
        'open job a (continued)',
        'close'
      ],
      8
    ],
    [
      'the end of a run writes what waits, one group after another',
      [['start', 'a'], ['start', 'b'], ['line', 'b', 'b1'], ['line', 'a', 'a1'], ['end']],
      ['open job a', 'a1', 'close', 'open job b', 'b1', 'close']
    ]
  ])('%s', (_name, steps, expected, limit = HELD_LIMIT_CHARS) => {
    expect(play(steps, limit)).toEqual(expected)
  })
})
