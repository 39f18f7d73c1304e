import type { PipelinePlan } from '../plan/pipeline-plan.js'
import { airflowDag } from './airflow-dag.js'
import { batchJobs } from './batch-jobs.js'
import { exportArgo } from './argo-export.js'
import { exportPlan } from './export-plan.js'
import { githubWorkflow } from './github-workflow.js'
import { exportKubernetes } from './k8s-export.js'
import type { ExportOptions } from './target-options.js'

/** The targets `export --to` takes. */
export const EXPORT_TARGETS = ['argo', 'k8s', 'airflow', 'batch', 'github'] as const
export type ExportTarget = (typeof EXPORT_TARGETS)[number]

/**
 * The pipeline plan as the target's manifests or code, as text. Throws PipelineFileError for what
 * the file asks that the target cannot be given (exit 2).
 */
export function exportPipeline(
  target: ExportTarget,
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: ExportOptions
): string {
  switch (target) {
    case 'argo':
      return exportArgo(plan, params, options)
    case 'github':
      return githubWorkflow(plan, params, options)
    case 'k8s':
      return exportKubernetes(plan, params, options)
    case 'airflow':
      return airflowDag(exportPlan(plan, params, 'airflow'), options)
    case 'batch':
      return `${JSON.stringify(batchJobs(exportPlan(plan, params, 'batch'), options), null, 2)}\n`
  }
}
