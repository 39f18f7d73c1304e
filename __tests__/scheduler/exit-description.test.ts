import { describeExit } from '../../src/scheduler/exit-description.js'

describe('describeExit', () => {
  it.each([
    [1, undefined],
    [2, { killed: false }],
    [3, { killed: false, limitBytes: 1024 }]
  ])('%s %j: a plain exit code, nothing more to say', (code, memory) => {
    expect(describeExit(code, memory)).toBe(`exit code ${code}`)
  })

  it.each([
    [125, undefined, 'exit code 125: the container runtime could not run the command'],
    [126, undefined, 'exit code 126: the command was found but cannot be executed'],
    [127, undefined, 'exit code 127: command not found'],
    [137, undefined, 'exit code 137: killed by SIGKILL: stopped from outside'],
    [139, undefined, 'exit code 139: segmentation fault (SIGSEGV)'],
    [143, undefined, 'exit code 143: stopped by SIGTERM'],
    [
      137,
      { killed: true, limitBytes: 32 * 1024 ** 2 },
      'killed for memory: it hit its memory limit of 32m (resources.memory); exit code 137'
    ],
    [137, { killed: true }, 'killed for memory: the host ran out of memory; exit code 137'],
    [
      3,
      { killed: true, limitBytes: 1024 ** 3 },
      'exit code 3, after a process was killed for memory: it hit its memory limit of 1g'
    ]
  ])('%s %j', (code, memory, expected) => {
    expect(describeExit(code, memory)).toContain(expected)
  })
})
