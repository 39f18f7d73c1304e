import { planPipeline, type PipelinePlan } from '../plan/pipeline-plan.js'
import { InputError } from '../pipeline/input-error.js'
import { resolveParams } from '../pipeline/params.js'
import type { Pipeline } from '../pipeline/pipeline-types.js'

/** A pipeline with its params resolved and its plan made: what `run` and `plan` start from. */
export interface PreparedPlan {
  params: Record<string, unknown>
  plan: PipelinePlan
}

/**
 * Resolves the given params against the file's declarations and plans the run;
 * `only` must name jobs of the file. Throws InputError or PipelineFileError (exit 2).
 */
export function preparePlan(
  pipeline: Pipeline,
  given: Record<string, unknown>,
  only: readonly string[] = []
): PreparedPlan {
  const unknown = only.filter((id) => !pipeline.jobs.some((j) => j.id === id))
  if (unknown.length > 0) {
    const known = pipeline.jobs.map((j) => j.id).join(', ')
    throw new InputError(
      `--job ${unknown.join(', ')}: no such job in ${pipeline.file} (jobs: ${known})`
    )
  }
  const params = resolveParams(pipeline, given)
  return { params, plan: planPipeline(pipeline, params) }
}

/**
 * Plans with the file's defaults, for `validate`: a matrix that cannot be expanded is a
 * problem of the file. Skipped when a required param has no default (nothing to plan with).
 */
export function checkPlan(pipeline: Pipeline): void {
  let params: Record<string, unknown>
  try {
    params = resolveParams(pipeline, {})
  } catch (error) {
    if (error instanceof InputError) return
    throw error
  }
  planPipeline(pipeline, params)
}
