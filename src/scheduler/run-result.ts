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
  /** A stage that holds stages: each time it ran them (an item, a loop, a branch, a case). */
  nested?: NestedRun[]
}

/** One run of the stages a stage holds, with their results. */
export interface NestedRun {
  /** What names it in `stages.ID.outputs`: the item (or its index), loop, branch or case. */
  key: string
  /** `foreach` and `until`: the item it ran for. */
  item?: unknown
  /** `until`: which time round, from 1. */
  loop?: number
  /** `parallel`: the branch's name. */
  branch?: string
  /** `case`: the case that matched (`_` for the else). */
  case?: unknown
  status: Status
  stages: StageResult[]
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

/**
 * `stages.ID.outputs` and `.result` as expressions see them, from the stages so far. A
 * stage that holds stages has its runs as ddeutil-workflow shows them: `items` and
 * `foreach.KEY`, `until.LOOP`, `parallel.BRANCH`, or `case`, each with its `stages`.
 */
export function stagesContext(stages: readonly StageResult[]): Record<string, unknown> {
  return Object.fromEntries(
    stages.map((s) => [
      s.id,
      { result: s.status, outputs: s.nested ? nestedOutputs(s) : s.outputs }
    ])
  )
}

function nestedOutputs(stage: StageResult): Record<string, unknown> {
  const runs = stage.nested ?? []
  const each = (fields: (run: NestedRun) => Record<string, unknown>) =>
    Object.fromEntries(
      runs.map((run) => [
        run.key,
        { ...fields(run), result: run.status, stages: stagesContext(run.stages) }
      ])
    )
  switch (stage.type) {
    case 'foreach':
      return { items: runs.map((r) => r.item), foreach: each((r) => ({ item: r.item })) }
    case 'until':
      return { until: each((r) => ({ loop: r.loop, item: r.item })) }
    case 'parallel':
      return { parallel: each((r) => ({ branch: r.branch })) }
    default:
      return runs[0] ? { case: runs[0].case, stages: stagesContext(runs[0].stages) } : {}
  }
}

/**
 * Every stage result of a list and, depth first after each stage that holds stages, those
 * of its runs, each with the name the log gives it (`each[b.csv] > check`) and its depth.
 */
export function everyStage(
  stages: readonly StageResult[],
  label = '',
  depth = 0
): Array<{ name: string; depth: number; stage: StageResult }> {
  return stages.flatMap((stage) => [
    { name: `${label}${stage.name}`, depth, stage },
    ...(stage.nested ?? []).flatMap((run) =>
      everyStage(run.stages, `${label}${stage.name}[${run.key}] > `, depth + 1)
    )
  ])
}

/** Fails a job (or stage) result; the first message given is the one kept. */
export function fail(result: JobResult, message: string) {
  result.status = 'failure'
  result.error ??= message
}
