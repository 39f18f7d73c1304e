import type { PipelinePlan } from '../plan/pipeline-plan.js'
import { exportAirflow } from './airflow/airflow-export.js'
import { exportArgo } from './argo/argo-export.js'
import { exportBatch } from './batch/batch-export.js'
import { exportGithub } from './github/github-export.js'
import { exportKubernetes } from './k8s/k8s-export.js'
import type { ExportOptions } from './shared/target-options.js'
import { PipelineFileError, type FileProblem } from '../pipeline/file-problems.js'
import type { Pipeline, TriggerSpec } from '../pipeline/pipeline-types.js'

/** The targets `export --to` takes. */
export const EXPORT_TARGETS = ['argo', 'k8s', 'airflow', 'batch', 'github'] as const
export type ExportTarget = (typeof EXPORT_TARGETS)[number]

/**
 * What each target folder gives: the pipeline plan, with its params, as the target's
 * manifests or code.
 */
type TargetExport = (
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: ExportOptions
) => string

const TARGETS: Record<ExportTarget, TargetExport> = {
  argo: exportArgo,
  k8s: exportKubernetes,
  airflow: exportAirflow,
  batch: exportBatch,
  github: exportGithub
}

/**
 * The pipeline plan as the target's manifests or code, as text. Throws PipelineFileError
 * for what the file asks that the target cannot be given (exit 2).
 */
export function exportPipeline(
  target: ExportTarget,
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: ExportOptions
): string {
  const on = plan.pipeline.on
  const problems = [
    ...(on ? triggerProblems(target, on, options) : []),
    ...runStartParams(target, plan.pipeline)
  ]
  if (problems.length > 0) throw new PipelineFileError(problems)
  const kept = on && options.dropped.includes('on.schedule') ? { ...on, schedule: [] } : on
  return TARGETS[target]({ ...plan, pipeline: { ...plan.pipeline, on: kept } }, params, options)
}

/**
 * A `date` or `datetime` param without a default is the run's start: an export made now
 * would fix it at the export's time, so it asks for a default instead.
 */
function runStartParams(target: ExportTarget, pipeline: Pipeline): FileProblem[] {
  return Object.entries(pipeline.params)
    .filter(
      ([, spec]) => (spec.type === 'date' || spec.type === 'datetime') && spec.default === undefined
    )
    .map(([name, spec]) => ({
      ...spec.position,
      message: `export --to ${target}: params.${name}: a ${spec.type} param without a default is the run's start, which the export cannot say; give it a default`
    }))
}

/**
 * What a target cannot do with `on:`: no engine but ddeutil-workflow starts a workflow on
 * another's release; plain Kubernetes Jobs and Batch jobs have no schedule here; an Airflow
 * DAG takes one cron line, and a WorkflowTemplate none. Each can be left out with `--drop`.
 */
function triggerProblems(
  target: ExportTarget,
  on: TriggerSpec,
  options: ExportOptions
): FileProblem[] {
  const problems: FileProblem[] = []
  const refuse = (message: string) =>
    problems.push({ ...on.position, message: `export --to ${target}: ${message}` })
  if (on.release.length > 0 && !options.dropped.includes('on.release'))
    refuse(
      'on.release: only ddeutil-workflow starts a workflow when another is released; leave it out with --drop on.release'
    )
  if (on.schedule.length === 0 || options.dropped.includes('on.schedule')) return problems
  if (target === 'k8s' || target === 'batch')
    refuse(
      `on.schedule: ${target === 'k8s' ? 'the Kubernetes Jobs' : 'the Batch jobs'} of an export are not scheduled; export to argo, airflow or github for a schedule, or leave it out with --drop on.schedule`
    )
  else if (target === 'airflow' && on.schedule.length > 1)
    refuse(
      `on.schedule: an Airflow DAG takes one cron line, not ${on.schedule.length}; keep one, or leave them out with --drop on.schedule`
    )
  else if (target === 'argo' && options.template)
    refuse(
      'on.schedule: a WorkflowTemplate has no schedule; leave out --template (a CronWorkflow is written), or leave it out with --drop on.schedule'
    )
  return problems
}
