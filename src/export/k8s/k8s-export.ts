import { stringify as toYaml } from 'yaml'
import type { PipelinePlan } from '../../plan/pipeline-plan.js'
import { ExportCheckError } from '../shared/check-error.js'
import { exportPlan } from '../shared/export-plan.js'
import { checkKubernetesObjects } from './k8s-checks.js'
import { kubernetesJobs } from './k8s-jobs.js'
import type { ExportOptions } from '../shared/target-options.js'

/**
 * The pipeline plan as Kubernetes objects (kubernetesJobs), one YAML document each in
 * the order `kubectl apply -f` creates them, checked before they are printed.
 */
export function exportKubernetes(
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: ExportOptions
): string {
  const objects = kubernetesJobs(exportPlan(plan, params, 'k8s'), options)
  const problems = checkKubernetesObjects(objects)
  if (problems.length > 0) throw new ExportCheckError('Kubernetes', problems)
  return objects.map((object) => toYaml(object, { lineWidth: 0 })).join('---\n')
}
