import type { PlannedJob } from '../plan/pipeline-plan.js'
import type { JobResult, Status } from './run-result.js'

/** How a job ended as a whole, and its outputs, as `needs.JOB` shows it downstream. */
export interface JobSummary {
  result: Status
  /** A job's outputs; for a matrix job, each output is the list of its instances' values. */
  outputs: Record<string, string | string[]>
  /** Every instance (one for a job without a matrix), in plan order. */
  instances: Array<{
    id: string
    matrix: Record<string, unknown>
    result: Status
    outputs: Record<string, string>
  }>
}

/**
 * Sums up a job from its instances' results: success when all succeeded, else failure if
 * any failed, else cancelled if any was, else skipped. A matrix job's outputs are lists in
 * instance order so that no instance overwrites another ('' where one did not set it).
 */
export function summarizeJob(job: PlannedJob, results: readonly JobResult[]): JobSummary {
  const statuses = results.map((r) => r.status)
  const result: Status = statuses.every((s) => s === 'success')
    ? 'success'
    : (['failure', 'cancelled', 'skipped'] as const).find((s) => statuses.includes(s))!
  const instances = results.map((r) => ({
    id: r.id,
    matrix: r.matrix,
    result: r.status,
    outputs: r.outputs
  }))
  const outputs: JobSummary['outputs'] = job.job.strategy?.matrix
    ? Object.fromEntries(
        Object.keys(job.job.outputs).map((k) => [k, results.map((r) => r.outputs[k] ?? '')])
      )
    : (results[0]?.outputs ?? {})
  return { result, outputs, instances }
}
