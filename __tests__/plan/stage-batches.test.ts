import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { batchOutput } from '../../src/scheduler/batch-output.js'
import {
  batchable,
  batchAt,
  batchCommand,
  BATCH_ARGS_LIMIT,
  newBatchMarker,
  parseStageEnd,
  readBatchCommand,
  type BatchedStage,
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

/**
 * The driver run by the host's own sh (POSIX, as in images): what each stage printed,
 * and where each ended, as the engine would read them.
 */
function runBatch(stages: BatchedStage[]) {
  const marker = newBatchMarker()
  const { argv, env: carried } = batchCommand(marker, stages)
  const [cmd, ...args] = argv
  const env = { ...process.env, ...Object.fromEntries(carried.map((p) => p.split(/=(.*)/s))) }
  let stdout = ''
  let stderr = ''
  try {
    stdout = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env })
  } catch (error) {
    throw new Error(`driver failed: ${(error as { stderr: string }).stderr}`)
  }
  // stderr is read again on its own, to see both streams.
  stderr = execFileSync('sh', ['-c', '"$@" 2>&1 >/dev/null', 'x', cmd, ...args], {
    encoding: 'utf8',
    env
  })
  const events: string[] = []
  const output = batchOutput(
    marker,
    (stream, text) => events.push(...text.split('\n').map((l) => `${stream}: ${l}`)),
    (end) => events.push(`end ${end.stage} ${end.exitCode} ${end.wroteFiles}`)
  )
  // stdout first, then stderr: the stage ends wait for both.
  output.push('stdout', Buffer.from(stdout))
  output.push('stderr', Buffer.from(stderr))
  output.flush()
  return events
}

describe('batchCommand, run by sh', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctr-batch-'))
  const sh = (script: string, fields: Partial<BatchedStage> = {}): BatchedStage => ({
    command: ['sh', '-e', '-c', script],
    env: [],
    stateDir: path.join(dir, 'none'),
    continueOnError: false,
    ...fields
  })

  it('runs stages in order, each with its own environment, values passed as they are', () => {
    const tricky = `it's "quoted" $HOME \`x\` \n two lines; ${'$'}(echo no)`
    const events = runBatch([
      sh('echo "one: $A"', { env: [`A=${tricky}`] }),
      sh('echo "two: ${A-unset}"; echo err >&2'),
      { command: ['printf', '%s|', 'a b', "c'd"], env: [], stateDir: dir, continueOnError: false }
    ])
    expect(events).toEqual([
      `stdout: one: ${tricky.split('\n')[0]}`,
      `stdout: ${tricky.split('\n')[1]}`,
      'end 0 0 false',
      'stdout: two: unset',
      'stderr: err',
      'end 1 0 false',
      "stdout: a b|c'd|",
      'end 2 0 false'
    ])
  })

  it("puts a stage's env in no argument, and hands no stage another's carrier", () => {
    const secret = 'hunter2-secret-value'
    const stages = [
      sh('echo "one: $TOKEN"; env | grep -c CTR_BATCH_ENV || true', { env: [`TOKEN=${secret}`] }),
      sh('echo "two: ${TOKEN-unset}"; env | grep -c CTR_BATCH_ENV || true', { env: ['B=b'] })
    ]
    expect(batchCommand('::m::', stages).argv.join(' ')).not.toContain(secret)
    expect(runBatch(stages)).toEqual([
      `stdout: one: ${secret}`,
      'stdout: 0',
      'end 0 0 false',
      'stdout: two: unset',
      'stdout: 0',
      'end 1 0 false'
    ])
  })

  it('keeps a stage output as it was: blank lines, no newline at the end', () => {
    expect(runBatch([sh('printf "a\\n\\n"'), sh('printf b'), sh('true')])).toEqual([
      'stdout: a',
      'stdout: ',
      'end 0 0 false',
      'stdout: b',
      'end 1 0 false',
      'end 2 0 false'
    ])
  })

  it('stops after a stage that fails, and goes on after one that may', () => {
    expect(
      runBatch([sh('exit 3', { continueOnError: true }), sh('exit 4'), sh('echo never')])
    ).toEqual(['end 0 3 false', 'end 1 4 false'])
  })

  it('says which stages wrote their output or annotations file', () => {
    const wrote = path.join(dir, 'wrote')
    execFileSync('mkdir', ['-p', wrote])
    writeFileSync(path.join(wrote, 'annotations'), '::error::x\n')
    expect(runBatch([sh('true', { stateDir: wrote }), sh('true')])).toEqual([
      'end 0 0 true',
      'end 1 0 false'
    ])
  })

  it('reports a command that does not exist as that stage failing with 127', () => {
    const events = runBatch([{ ...sh(''), command: ['no-such-command-ctr'] }])
    expect(events.at(-1)).toBe('end 0 127 false')
  })
})

describe('readBatchCommand', () => {
  it('reads back every stage of a batch, with the values as they were given', () => {
    const stages = [
      {
        command: ['sh', '-e', '-c', 'echo "$X" > /o; exit 3'],
        env: ['X=a b', 'CTR_STAGE_ID=one'],
        stateDir: '/ctr/state/a/0',
        continueOnError: true
      },
      {
        command: ['python3', '-c', 'print(1)'],
        env: [],
        stateDir: '/ctr/state/a/1',
        continueOnError: false
      }
    ]
    const { argv, env } = batchCommand('::m::', stages)
    expect(readBatchCommand(argv, env)).toEqual({ marker: '::m::', stages })
  })

  it.each([[['sh', '-e', '-c', 'true']], [['true']], [[]]])('is undefined for %j', (argv) => {
    expect(readBatchCommand(argv)).toBeUndefined()
  })
})
