import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { batchExec } from '../../src/backend/batch-script.js'
import { newBatchMarker, type BatchedStage } from '../../src/plan/stage-batches.js'
import { batchOutput } from '../../src/scheduler/batch-output.js'

/**
 * The driver run by the host's own sh (POSIX, as in images): what each stage printed,
 * and where each ended, as the engine would read them.
 */
function runBatch(stages: BatchedStage[]) {
  const marker = newBatchMarker()
  const { argv, env: carried } = batchExec({ marker, stages })
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

describe('batchExec, run by sh (scripts/batch.sh)', () => {
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
    expect(batchExec({ marker: '::m::', stages }).argv.join(' ')).not.toContain(secret)
    expect(runBatch(stages)).toEqual([
      `stdout: one: ${secret}`,
      'stdout: 0',
      'end 0 0 false',
      'stdout: two: unset',
      'stdout: 0',
      'end 1 0 false'
    ])
  })

  it('gives a stage every pair of its env, values with = and newlines as they are', () => {
    const events = runBatch([
      sh('true'),
      sh('printf "%s|%s|%s\\n" "$A" "$B" "$C"', { env: ['A=x=y', 'B=two\nlines', 'C='] })
    ])
    expect(events).toEqual(['end 0 0 false', 'stdout: x=y|two', 'stdout: lines|', 'end 1 0 false'])
  })

  it('runs 60 stages of three variables each in one exec, no argument growing past 3,408 bytes', () => {
    // Each stage once listed every carrier to unset: 50 stages made one argument over
    // Linux's 128 KiB (E2BIG), and the job failed before its first stage.
    const stages = Array.from({ length: 60 }, (_, i) =>
      sh(`echo ${i}`, {
        env: [
          `CTR_OUTPUT=${dir}/s${i}/output`,
          `CTR_ANNOTATIONS=${dir}/s${i}/a`,
          `CTR_STAGE_ID=s${i}`
        ]
      })
    )
    const { argv, env } = batchExec({ marker: '::m::', stages })
    expect(Math.max(...[...argv, ...env].map((arg) => Buffer.byteLength(arg)))).toBe(3408)
    const events = runBatch(stages)
    expect(events.filter((e) => e.startsWith('end '))).toEqual(
      stages.map((_, i) => `end ${i} 0 false`)
    )
    expect(events.filter((e) => e.startsWith('stdout: '))).toEqual(
      stages.map((_, i) => `stdout: ${i}`)
    )
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
