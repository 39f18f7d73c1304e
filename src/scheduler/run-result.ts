/** How a run, job or stage ended. */
export type Status = 'success' | 'failure' | 'skipped' | 'cancelled'

/** A note a stage made about a file (`$CTR_ANNOTATIONS`), shown where the file is shown. */
export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
  /** The file it is about: as written, or the host path behind a bind-mounted path. */
  file?: string
  line?: number
  end_line?: number
  col?: number
  end_col?: number
  title?: string
}

export interface StageResult {
  id: string
  name: string
  type: string
  status: Status
  /** Null when the stage ran nothing (empty, skipped, or failed before it started). */
  exit_code: number | null
  /** The kernel killed a process of it for memory (its container's limit, or the host's). */
  oom_killed: boolean
  /** It ran longer than its `timeout` (its status is failure). */
  timed_out: boolean
  /** When it began (ISO 8601); absent for a stage that did not run (skipped, cancelled). */
  started_at?: string
  duration_ms: number
  outputs: Record<string, string>
  /** What it wrote to `$CTR_ANNOTATIONS`, when anything. */
  annotations?: Annotation[]
  error?: string
}

export interface JobResult {
  /** The instance's readable id: the job's id, or `job (matrix values)`. */
  id: string
  /** The job (key under `jobs:`) this is an instance of. */
  job: string
  /** The matrix values of this instance; empty for a job without a matrix. */
  matrix: Record<string, unknown>
  status: Status
  exit_code: number | null
  /** Killed for memory: the stage that failed it was, or the container's own command. */
  oom_killed: boolean
  /** It ran longer than its `timeout` (its status is failure). */
  timed_out: boolean
  /** How many times it ran: 1, or more when `retry` ran it again after a failure. */
  attempts: number
  started_at: string | null
  duration_ms: number
  outputs: Record<string, string>
  error?: string
  /** Where its declared artifacts were copied, when any file matched. */
  artifacts?: { dir: string; files: number }
  /** `build.push`: what the registry holds, `name@sha256:…`. */
  pushed_image?: string
  stages: StageResult[]
}

/** The result document (`--result FILE`, the action's `result` output). */
export interface RunResult {
  run_id: string
  pipeline: string
  file: string
  status: Status
  started_at: string
  duration_ms: number
  /** Why the run as a whole failed, beyond its jobs: the Docker engine was lost. */
  error?: string
  /** The Docker engine stopped answering mid-run (exit status 3); the status is failure. */
  engine_lost?: boolean
  jobs: JobResult[]
}

/** `stages.ID.outputs` and `.result` as expressions see them, from the stages so far. */
export function stagesContext(stages: StageResult[]) {
  return Object.fromEntries(stages.map((s) => [s.id, { result: s.status, outputs: s.outputs }]))
}

/** Fails a job (or stage) result; the first message given is the one kept. */
export function fail(result: JobResult, message: string) {
  result.status = 'failure'
  result.error ??= message
}
