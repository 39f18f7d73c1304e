import type { PipelinePlan } from '../../plan/pipeline-plan.js'
import { exportPlan } from '../shared/export-plan.js'
import type { ExportOptions } from '../shared/target-options.js'
import { batchJobs } from './batch-jobs.js'

/** The pipeline plan as AWS Batch job definitions and submissions, in JSON (batchJobs). */
export function exportBatch(
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: ExportOptions
): string {
  return `${JSON.stringify(batchJobs(exportPlan(plan, params, 'batch'), options), null, 2)}\n`
}
