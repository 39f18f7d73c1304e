import { stringify as toYaml } from 'yaml'
import type { PipelinePlan } from '../../plan/pipeline-plan.js'
import { checkArgoManifest } from './argo-checks.js'
import { ExportCheckError } from '../shared/check-error.js'
import { argoWorkflow } from './argo-workflow.js'
import type { ExportOptions } from '../shared/target-options.js'
import { exportPlan } from '../shared/export-plan.js'

/**
 * The pipeline plan as an Argo Workflow (or WorkflowTemplate) in YAML, checked before it
 * is printed (checkArgoManifest). Throws PipelineFileError for what the file asks that Argo
 * cannot be given, ExportCheckError when the manifest fails its own checks.
 */
export function exportArgo(
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: ExportOptions
): string {
  const manifest = argoWorkflow(exportPlan(plan, params, 'argo'), options)
  const problems = checkArgoManifest(manifest)
  if (problems.length > 0) throw new ExportCheckError('Argo', problems)
  return toYaml(manifest, { lineWidth: 0 })
}
