import { CTR_ROOT } from '../../plan/container-paths.js'
import { PipelineFileError, type FileProblem } from '../../pipeline/file-problems.js'
import type { ExportInstance, ExportJob, ExportPlan } from './export-plan.js'
import { jobScript } from './job-script.js'
import { ExportProblem } from './pod-parts.js'

/**
 * Where a job's outputs are written on the shared workspace, a file per key, for targets
 * with no outputs of their own (Batch, Kubernetes Jobs): a later job's stage reads them
 * from there as it starts.
 */
const OUTPUTS_DIR = `${CTR_ROOT}/outputs`

/**
 * Calls `make` for each job of a target that runs a job only once everything it depends
 * on succeeded (Batch's `dependsOn`, Kubernetes Jobs waiting on their needs). A job whose
 * `if:` is false either way is left out with the jobs that need it, as it would be
 * skipped; `always()` and `failure()` are a problem; so are `max_parallel` (unless
 * dropped) and whatever ExportProblem `make` throws, each at its place in the file.
 * `fail_fast` changes no outcome there (the job fails either way), only how early the
 * other instances stop, so it is not one.
 */
export function eachJobAfterSuccess(
  plan: ExportPlan,
  target: {
    name: string
    dropped: readonly string[]
    runsAfter: string
    /** `make` holds a matrix's max_parallel itself (a Kubernetes Indexed Job's parallelism). */
    holdsMaxParallel?: boolean
  },
  make: (job: ExportJob) => void
): void {
  const problems: FileProblem[] = []
  const left = new Set<string>()
  for (const job of plan.jobs) {
    const { onSuccess, onFailure } = job.runsWhen
    if ((!onSuccess && !onFailure) || job.needs.some((n) => left.has(n))) {
      left.add(job.id)
      continue
    }
    try {
      if (onFailure) throw new ExportProblem(`if: always() and failure(): ${target.runsAfter}`)
      const held = target.holdsMaxParallel && job.matrix
      if (job.maxParallel !== undefined && !held && !target.dropped.includes('max_parallel'))
        throw new ExportProblem(
          `max_parallel: ${job.maxParallel}: every instance starts once its needs are done (--drop max_parallel starts them all)`
        )
      make(job)
    } catch (error) {
      if (!(error instanceof ExportProblem)) throw error
      const at = error.position ?? job.position
      problems.push({
        ...at,
        message: `export --to ${target.name}: jobs.${job.id}: ${error.message}`
      })
    }
  }
  if (problems.length > 0) throw new PipelineFileError(problems)
}

/**
 * The job script of an instance for a target that passes nothing between jobs: its
 * outputs go to `OUTPUTS_DIR/SLUG/KEY` on the workspace and an upstream output is read
 * from there as the stage starts. Undefined for a job without stages.
 */
export function workspaceScript(
  plan: ExportPlan,
  job: ExportJob,
  instance: ExportInstance,
  target: string
): string | undefined {
  return (
    instance.stages &&
    jobScript(
      job.id,
      instance.stages,
      instance.outputs,
      { kind: 'files', dir: `${OUTPUTS_DIR}/${instance.slug}` },
      (upstream, key) => {
        if (plan.jobs.find((j) => j.id === upstream)!.matrix)
          throw new ExportProblem(
            `needs.${upstream}.outputs.${key}: a matrix job's outputs (a list of every instance's) are not exported to ${target} yet`
          )
        return `${OUTPUTS_DIR}/${upstream}/${key}`
      }
    )
  )
}
