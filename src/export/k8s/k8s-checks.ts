import type { IJob } from 'kubernetes-models/batch/v1/Job'
import { DNS_LABEL } from '../shared/k8s-names.js'
import { waitsFor, type KubernetesObject } from './k8s-jobs.js'

/**
 * What the Kubernetes schema does not say and a cluster would refuse (or run wrong): every
 * name a DNS-1123 label (a Job's becomes its pods' `job-name` label, so 63 at most), each
 * unique per kind, every Job it waits for one made before it (so no cycle), every volume
 * mount a volume of its pod, every ConfigMap volume one of the export holding the script
 * the container runs. Returns the problems found, one line each.
 */
export function checkKubernetesObjects(objects: readonly KubernetesObject[]): string[] {
  const problems: string[] = []
  const seen = new Set<string>()
  const configMaps = new Map<string, Record<string, string>>()
  for (const object of objects) {
    const name = object.metadata?.name ?? ''
    const id = `${object.kind} '${name}'`
    if (!DNS_LABEL.test(name)) problems.push(`${id}: not a DNS-1123 label`)
    if (seen.has(id)) problems.push(`${id}: defined twice`)
    seen.add(id)
    if (object.kind === 'ConfigMap') configMaps.set(name, object.data ?? {})
    if (object.kind === 'Job') problems.push(...checkJob(object, seen, configMaps))
  }
  return problems
}

function checkJob(
  job: IJob,
  seen: ReadonlySet<string>,
  configMaps: ReadonlyMap<string, Record<string, string>>
): string[] {
  const problems: string[] = []
  const where = `Job '${job.metadata?.name}'`
  for (const need of waitsFor(job))
    if (!seen.has(`Job '${need}'`)) problems.push(`${where}: waits for '${need}', no Job before it`)
  const pod = job.spec?.template.spec
  const volumes = new Map((pod?.volumes ?? []).map((v) => [v.name, v]))
  for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
    for (const mount of container.volumeMounts ?? [])
      if (!volumes.has(mount.name))
        problems.push(`${where}: container '${container.name}' mounts '${mount.name}', no volume`)
    const [shell, file] = container.command ?? []
    for (const mount of container.volumeMounts ?? []) {
      const configMap = volumes.get(mount.name)?.configMap
      if (!configMap) continue
      const data = configMaps.get(configMap.name ?? '')
      if (!data) problems.push(`${where}: ConfigMap '${configMap.name}' is not in the export`)
      else if (shell === 'sh' && file?.startsWith(`${mount.mountPath}/`)) {
        const key = file.slice(mount.mountPath.length + 1)
        if (!(key in data)) problems.push(`${where}: runs '${file}', not in its ConfigMap`)
      }
    }
  }
  return problems
}
