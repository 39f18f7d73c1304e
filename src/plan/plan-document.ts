import { ExpressionError, expressionScope } from '../pipeline/expression.js'
import { describeTrigger } from '../pipeline/schedule.js'
import { variableSyntax } from '../pipeline/dialect/dialect-rules.js'
import { PipelineFileError } from '../pipeline/file-problems.js'
import { valueRenderers } from '../pipeline/command-words.js'
import { ContainerConfigError } from './container-config-error.js'
import { planContainer, type ContainerPlan } from './container-plan.js'
import { namedVolumeNames, runNetworkName } from './container-paths.js'
import type { PipelinePlan } from './pipeline-plan.js'

/** What `plan --json` prints: every instance with its container, job by job in run order. */
export interface PlanDocument {
  pipeline: string
  file: string
  /** `on:` in one line (see describeTrigger); null when the file has none. */
  on: string | null
  levels: string[][]
  jobs: Array<{
    id: string
    needs: string[]
    level: number
    max_parallel: number | null
    fail_fast: boolean
    /** A matrix job's: whose defaults filled what its strategy leaves out (GitHub's, ddeutil-workflow's). */
    strategy_defaults: 'GitHub' | 'ddeutil-workflow' | null
    /**
     * The jobs whose outputs make its matrix: its instances are known once they are done
     * (`instances` is then empty); null for a job whose instances are known now.
     */
    instances_after: string[] | null
    instances: Array<{
      id: string
      matrix: Record<string, unknown>
      container: ContainerPlan
    }>
  }>
}

/** A placeholder for the run id, which only exists once a run starts. */
export const PLAN_RUN_ID = 'RUN-ID'

/**
 * Describes a plan without running it. Values that depend on the run (`needs` outputs,
 * the run id) are shown as written; params, matrix values and `${VAR}` are filled in.
 */
export function planDocument(
  plan: PipelinePlan,
  params: Record<string, unknown>,
  env: Record<string, string | undefined>
): PlanDocument {
  const deferred = new Set(['needs', 'run_id', 'stages'])
  return {
    pipeline: plan.pipeline.name,
    file: plan.pipeline.file,
    on: plan.pipeline.on ? describeTrigger(plan.pipeline.on) : null,
    levels: plan.levels,
    jobs: plan.jobs.map((job) => ({
      id: job.id,
      needs: job.job.needs,
      level: job.level,
      max_parallel: job.maxParallel ?? null,
      fail_fast: job.failFast,
      strategy_defaults: (job.job.strategy?.matrix && job.job.strategy.defaults) ?? null,
      instances_after: job.after ?? null,
      instances: job.instances.map((instance) => {
        const scope = expressionScope({
          params,
          matrix: instance.matrix,
          job: { id: job.id, instance: instance.id }
        })
        let planned: ContainerPlan
        try {
          planned = planContainer(instance, {
            runId: PLAN_RUN_ID,
            pipelineDir: plan.pipeline.dir,
            namedVolumes: namedVolumeNames(plan.pipeline.volumes, PLAN_RUN_ID),
            runNetwork: runNetworkName(PLAN_RUN_ID),
            ...valueRenderers(scope, {
              variables: variableSyntax(plan.pipeline.dialect, 'container'),
              env,
              deferred
            })
          })
        } catch (error) {
          // A value that only `${VAR}` or a param makes wrong: an error at the job, exit 2.
          if (!(error instanceof ContainerConfigError || error instanceof ExpressionError))
            throw error
          throw new PipelineFileError([
            {
              ...job.job.position,
              message: `jobs.${job.id} (${instance.id}): runs-on.with.${error.message}`
            }
          ])
        }
        return {
          id: instance.id,
          matrix: instance.matrix,
          container: planned
        }
      })
    }))
  }
}
