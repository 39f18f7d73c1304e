import {
  JOB_OUTPUTS_LIMIT_BYTES,
  OUTPUTS_BUDGET_BYTES,
  outputBytes,
  sizeOutputs
} from '../../src/action/sized-outputs.js'
import type { JobResult, RunResult } from '../../src/scheduler/run-result.js'

function result(instances: number, stageOutputBytes: number): RunResult {
  const job = (i: number): JobResult => ({
    id: `job (${i})`,
    job: 'job',
    matrix: { i },
    status: 'success',
    exit_code: 0,
    oom_killed: false,
    timed_out: false,
    attempts: 1,
    started_at: '2026-11-21T00:00:00.000Z',
    duration_ms: 10,
    outputs: { n: String(i) },
    stages: [
      {
        id: 's',
        name: 's',
        type: 'sh',
        status: 'success',
        exit_code: 0,
        oom_killed: false,
        timed_out: false,
        duration_ms: 5,
        outputs: { big: 'x'.repeat(stageOutputBytes) }
      }
    ]
  })
  return {
    run_id: 'r',
    pipeline: 'p',
    file: 'p.yml',
    status: 'success',
    started_at: '2026-11-21T00:00:00.000Z',
    duration_ms: 10,
    jobs: Array.from({ length: instances }, (_, i) => job(i))
  }
}

describe('sizeOutputs', () => {
  it.each([
    ['a small result, whole', 2, 10, undefined],
    ['stages left out first', 20, 40_000, 'stages left out'],
    ['then all but each status', 3000, 10, 'everything but each instance status'],
    ['then the jobs', 200_000, 0, 'the jobs left out']
  ])('%s', (_name, instances, bytes, truncated) => {
    const sized = sizeOutputs(result(instances, bytes), { job: { n: ['1'] } }, '/tmp/r.json')
    const parsed = JSON.parse(sized.result) as { truncated?: string; status: string }
    expect(parsed.status).toBe('success')
    expect(sized.truncated).toBe(truncated !== undefined)
    if (truncated) expect(parsed.truncated).toContain(truncated)
    else expect(parsed.truncated).toBeUndefined()
    expect(outputBytes(sized.result) + outputBytes(sized.outputs)).toBeLessThanOrEqual(
      OUTPUTS_BUDGET_BYTES
    )
  })

  it('replaces job outputs over its limit by a pointer, naming the size, and keeps the rest', () => {
    const big = { job: { blob: 'x'.repeat(JOB_OUTPUTS_LIMIT_BYTES / 2) } }
    const sized = sizeOutputs(result(2, 10), big, '/tmp/r.json')
    const error =
      'the job outputs take 513 KiB, more than the 512 KiB the action may set (GitHub keeps at most 1 MB of outputs per job): they are in the result file, /tmp/r.json; write large values to a file in $CTR_WORKSPACE or an artifact, and output its path'
    expect(sized.outputsError).toBe(error)
    expect(JSON.parse(sized.outputs)).toEqual({ too_large: error, result_file: '/tmp/r.json' })
    // The result document is still there, whole: the outputs took no room from it.
    expect(sized.truncated).toBe(false)
    expect((JSON.parse(sized.result) as { jobs: unknown[] }).jobs).toHaveLength(2)
  })

  it('sets no error for job outputs right at its limit', () => {
    const exact = { j: 'x'.repeat(JOB_OUTPUTS_LIMIT_BYTES / 2 - '{"j":""}'.length) }
    const sized = sizeOutputs(result(1, 0), exact, '/tmp/r.json')
    expect(outputBytes(sized.outputs)).toBe(JOB_OUTPUTS_LIMIT_BYTES)
    expect(sized.outputsError).toBeUndefined()
  })
})
