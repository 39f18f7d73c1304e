import type { PipelinePlan } from '../plan/pipeline-plan.js'
import { exportAirflow } from './airflow/airflow-export.js'
import { exportArgo } from './argo/argo-export.js'
import { exportBatch } from './batch/batch-export.js'
import { exportGithub } from './github/github-export.js'
import { exportKubernetes } from './k8s/k8s-export.js'
import type { ExportOptions } from './shared/target-options.js'

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
  return TARGETS[target](plan, params, options)
}
