import type { PipelinePlan } from '../../plan/pipeline-plan.js'
import { exportPlan } from '../shared/export-plan.js'
import type { ExportOptions } from '../shared/target-options.js'
import { airflowDag } from './airflow-dag.js'

/** The pipeline plan as an Airflow DAG file (airflowDag). */
export function exportAirflow(
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: ExportOptions
): string {
  return airflowDag(exportPlan(plan, params, 'airflow'), options)
}
