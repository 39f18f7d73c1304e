import { NameBook } from '../shared/k8s-names.js'
import type { ExportInstance, ExportJob, ExportPlan } from '../shared/export-plan.js'
import { placeholder } from '../shared/placeholders.js'
import { ExportProblem, podParts, WORKSPACE_VOLUME } from '../shared/pod-parts.js'
import type { ExportOptions } from '../shared/target-options.js'
import { plain } from './jinja-fields.js'
import { call, nonEmpty, type PyCall, type PyValue } from './python-code.js'

/** Where the KubernetesPodOperator's sidecar reads a task's XCom from. */
export const XCOM_FILE = '/airflow/xcom/return.json'

/** camelCase keys of a Kubernetes object as the Python client's snake_case, nested objects as its models. */
const K8S_MODELS: Record<string, string> = {
  persistentVolumeClaim: 'V1PersistentVolumeClaimVolumeSource',
  hostPath: 'V1HostPathVolumeSource',
  emptyDir: 'V1EmptyDirVolumeSource',
  valueFrom: 'V1EnvVarSource',
  secretKeyRef: 'V1SecretKeySelector',
  capabilities: 'V1Capabilities'
}

function k8sModel(model: string, value: object): PyCall {
  const kwargs: Record<string, PyValue> = {}
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue
    const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
    kwargs[snake] =
      K8S_MODELS[key] && typeof v === 'object' && !Array.isArray(v)
        ? k8sModel(K8S_MODELS[key], v as object)
        : (v as PyValue)
  }
  return call(`k8s.${model}`, kwargs)
}

/** A job instance as a KubernetesPodOperator (`--platform kubernetes`). */
export function podOperator(
  instance: ExportInstance,
  job: ExportJob,
  plan: ExportPlan,
  options: ExportOptions,
  script: string | undefined,
  common: Record<string, PyValue | undefined>,
  text: (t: string) => string
): PyCall {
  const pod = podParts(instance.container, {
    // References stay placeholders here: jinja() writes them, in the fields Airflow renders.
    reference: placeholder,
    secretName: options.secretName,
    maps: options.maps,
    hostMounts: plan.hostMounts[job.id] ?? [],
    namedVolume: (key) => `vol-${key}`,
    dropped: new Set(options.dropped)
  })
  if (pod.hostAliases.length > 0)
    throw new ExportProblem('extra_hosts: the KubernetesPodOperator takes no host aliases')
  if (instance.container.workingDir && !script)
    throw new ExportProblem('working_dir: the KubernetesPodOperator sets no working folder')
  const c = pod.container
  const volumes = [
    { name: WORKSPACE_VOLUME, persistentVolumeClaim: { claimName: options.workspace } },
    ...Object.entries(plan.volumes).map(([key, v]) => ({
      name: `vol-${key}`,
      persistentVolumeClaim: { claimName: v.name ?? key }
    })),
    ...pod.volumes
  ].filter((v) => (c.volumeMounts ?? []).some((m) => m.name === v.name))
  return call('KubernetesPodOperator', {
    ...common,
    name: new NameBook().name(instance.slug),
    namespace: options.namespace,
    image: text(c.image ?? ''),
    image_pull_policy: c.imagePullPolicy,
    cmds: script ? ['sh', '-c'] : c.command?.map(text),
    arguments: script ? [text(script)] : c.args?.map(text),
    env_vars: (c.env ?? []).map((e) =>
      k8sModel('V1EnvVar', e.value === undefined ? e : { ...e, value: text(e.value) })
    ),
    container_resources: c.resources && k8sModel('V1ResourceRequirements', c.resources),
    volumes: volumes.map((v) => k8sModel('V1Volume', v)),
    volume_mounts: (c.volumeMounts ?? []).map((m) =>
      k8sModel('V1VolumeMount', { ...m, mountPath: plain(m.mountPath, 'volumes') })
    ),
    container_security_context:
      c.securityContext && k8sModel('V1SecurityContext', c.securityContext),
    ports: c.ports?.map((p) => k8sModel('V1ContainerPort', p)),
    node_selector: nonEmpty({ ...options.nodeSelector, ...pod.nodeSelector }),
    tolerations: nonEmpty(options.tolerations)?.map((t) => k8sModel('V1Toleration', t)),
    hostnetwork: pod.hostNetwork || undefined,
    labels: nonEmpty(pod.labels),
    image_pull_secrets: nonEmpty(options.imagePullSecrets)?.map((name) =>
      call('k8s.V1LocalObjectReference', { name })
    ),
    service_account_name: options.serviceAccount,
    on_finish_action: 'delete_pod'
  })
}
