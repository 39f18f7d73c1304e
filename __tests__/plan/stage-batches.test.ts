import {
  batchable,
  batchAt,
  BATCH_ARGS_LIMIT,
  parseStageEnd,
  type StageEnd
} from '../../src/plan/stage-batches.js'
import type { StageSpec } from '../../src/pipeline/pipeline-types.js'

const stage = (fields: Partial<StageSpec> = {}): StageSpec => ({
  id: 's',
  name: 's',
  type: 'sh',
  run: 'true',
  env: {},
  continue_on_error: false,
  retry: 0,
  position: { file: 'p.yml', line: 1, col: 1 },
  ...fields
})

describe('batchable', () => {
  it.each<[string, Partial<StageSpec>, boolean]>([
    ['a plain script', {}, true],
    [
      'a script reading params and needs',
      { run: 'echo {{ params.a }} {{ needs.b.outputs.c }}' },
      true
    ],
    ['cmd args', { type: 'cmd', run: undefined, args: ['echo', '{{ matrix.os }}'] }, true],
    ['a script reading an earlier stage', { run: 'echo {{ stages.a.outputs.x }}' }, false],
    ['env reading an earlier stage', { env: { X: '{{ stages.a.result }}' } }, false],
    [
      'cmd args reading an earlier stage',
      { type: 'cmd', args: ['{{ stages.a.outputs.x }}'] },
      false
    ],
    ['its own if:', { if: 'always()' }, false],
    ['a timeout', { timeout_ms: 1000 }, false],
    ['a retry', { retry: 1 }, false],
    [
      'vars reading an earlier stage',
      { type: 'py', vars: { x: '${{ stages.a.outputs.x }}' } },
      false
    ],
    ['vars reading params', { type: 'py', vars: { x: '${{ params.a }}', n: 1 } }, true],
    ['an empty stage', { type: 'empty', run: undefined }, false],
    ['a template that does not parse (fails where it always did)', { run: 'echo {{ (' }, false],
    ['the word stages outside an expression', { run: 'echo stages' }, true]
  ])('%s: %s', (_name, fields, expected) => {
    expect(batchable(stage(fields))).toBe(expected)
  })
})

describe('batchAt', () => {
  const stages = [stage(), stage(), stage({ if: 'always()' }), stage(), stage()]
  it.each<[number, (i: number) => number, number[]]>([
    [0, () => 10, [0, 1]],
    [2, () => 10, []],
    [3, () => 10, [3, 4]],
    [0, () => BATCH_ARGS_LIMIT, [0]],
    // One stage bigger than the limit still runs, alone.
    [3, () => BATCH_ARGS_LIMIT * 2, [3]]
  ])('from %i', (from, size, expected) => {
    expect(batchAt(stages, from, size)).toEqual(expected)
  })
})

describe('parseStageEnd', () => {
  const m = '::ctr-stage-end-ab::'
  it.each<[string, StageEnd | undefined]>([
    [`${m} 0 0 0`, { stage: 0, exitCode: 0, wroteFiles: false }],
    [`${m} 12 137 1`, { stage: 12, exitCode: 137, wroteFiles: true }],
    [`${m} 1 0`, undefined],
    [`${m} x 0 0`, undefined],
    [`::ctr-stage-end-cd:: 0 0 0`, undefined],
    [` ${m} 0 0 0`, undefined]
  ])('%j', (line, expected) => {
    expect(parseStageEnd(m, line)).toEqual(expected)
  })
})
