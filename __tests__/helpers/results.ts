import type { JobResult, RunResult, StageResult } from '../../src/scheduler/run-result.js'

/** The start of every made-up run: times below are offsets from it, in ms. */
export const T0 = Date.parse('2026-12-05T10:00:00.000Z')
export const at = (ms: number) => new Date(T0 + ms).toISOString()

/** A stage's result; without `start` it did not run. */
export function stage(
  name: string,
  status: StageResult['status'],
  start?: number,
  ms = 0,
  extra: Partial<StageResult> = {}
): StageResult {
  return {
    id: name,
    name,
    type: 'sh',
    status,
    exit_code: null,
    oom_killed: false,
    timed_out: false,
    ...(start === undefined ? {} : { started_at: at(start) }),
    duration_ms: ms,
    outputs: {},
    ...extra
  }
}

/** A job instance's result; a `start` of null: it did not run. */
export function instance(
  id: string,
  job: string,
  status: JobResult['status'],
  start: number | null,
  ms: number,
  stages: StageResult[] = [],
  extra: Partial<JobResult> = {}
): JobResult {
  return {
    id,
    job,
    matrix: {},
    status,
    exit_code: null,
    oom_killed: false,
    timed_out: false,
    attempts: 1,
    started_at: start === null ? null : at(start),
    duration_ms: ms,
    outputs: {},
    stages,
    ...extra
  }
}

/** A run of these instances, started at T0, lasting 5 s. */
export const run = (jobs: JobResult[]): RunResult => ({
  run_id: 'r1',
  pipeline: 'p',
  file: 'p.yml',
  status: 'failure',
  started_at: at(0),
  duration_ms: 5000,
  jobs
})
