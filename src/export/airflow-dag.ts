import { stringify } from '../pipeline/template.js'
import { PipelineFileError, type FileProblem } from '../pipeline/file-problems.js'
import type { ContainerPlan, MountPlan } from '../plan/container-plan.js'
import type { ExportInstance, ExportJob, ExportPlan } from './export-plan.js'
import { jobScript, shValue } from './job-script.js'
import { mappedPath } from './host-map.js'
import { NameBook } from './k8s-names.js'
import { placeholder, placeholdersIn, splitPlaceholders, type Placeholder } from './placeholders.js'
import { ExportProblem, podParts, tmpfsBytes, WORKSPACE_VOLUME } from './pod-parts.js'
import { call, py, pyName, type PyCall, type PyValue } from './python-code.js'
import type { ExportOptions } from './target-options.js'
import { CTR_ROOT } from '../plan/container-paths.js'
import { LABEL_NAMESPACE } from '../plan/labels.js'

/** Where the KubernetesPodOperator's sidecar reads a task's XCom from. */
const XCOM_FILE = '/airflow/xcom/return.json'

/**
 * The pipeline as an Airflow DAG file (Airflow 2 and 3): one operator per job instance
 * (`--platform kubernetes`: a KubernetesPodOperator; `docker`: a DockerOperator, as in
 * seed 000), a matrix job's instances in a TaskGroup, `>>` from `needs`, trigger rules
 * from `if:`, outputs through XCom. Templated fields (scripts, environment, image) take
 * upstream outputs, params and the run id through Jinja; everything else in them is kept
 * out of Jinja's reach with `{% raw %}`.
 */
export function airflowDag(plan: ExportPlan, options: ExportOptions): string {
  const names = new NameBook()
  const varOf = new Map(plan.jobs.map((job) => [job.id, pyName('job', names.name(job.id))]))
  const matrixJobs = new Set(plan.jobs.filter((j) => j.matrix).map((j) => j.id))
  const problems: FileProblem[] = []
  const body: string[] = []
  const uses = new Set<string>()
  for (const job of plan.jobs) {
    try {
      body.push(...jobCode(job, plan, options, { varOf, matrixJobs, uses }))
    } catch (error) {
      if (!(error instanceof ExportProblem)) throw error
      const at = error.position ?? job.position
      problems.push({ ...at, message: `export --to airflow: jobs.${job.id}: ${error.message}` })
    }
  }
  if (problems.length > 0) throw new PipelineFileError(problems)
  const edges = plan.jobs.flatMap((job) =>
    job.needs.map((need) => `    ${varOf.get(need)} >> ${varOf.get(job.id)}`)
  )
  const dag = call('DAG', {
    dag_id: new NameBook().name(plan.name || 'pipeline'),
    description: `exported by ctr-pipeline from ${plan.file}`,
    schedule: null,
    start_date: { code: 'datetime(2024, 1, 1)' },
    catchup: false,
    // The runs of one DAG share its workspace: one at a time.
    max_active_runs: 1,
    params: plan.params as Record<string, PyValue>,
    tags: ['ctr-pipeline']
  })
  return [
    `"""${plan.name}: exported by ctr-pipeline from ${plan.file} (--platform ${options.platform}).`,
    '',
    'Export again rather than edit: this file is made from the pipeline.',
    ...(options.dropped.length > 0
      ? [`Left out on purpose (--drop): ${options.dropped.join(', ')}.`]
      : []),
    '"""',
    ...imports(options, uses),
    '',
    `with ${py(dag)} as dag:`,
    ...body,
    ...edges,
    ''
  ].join('\n')
}

function imports(options: ExportOptions, uses: Set<string>): string[] {
  const lines = [
    `from datetime import datetime${uses.has('timedelta') ? ', timedelta' : ''}`,
    '',
    'try:  # Airflow 3',
    `    from airflow.sdk import DAG${uses.has('TaskGroup') ? ', TaskGroup' : ''}`,
    'except ImportError:  # Airflow 2',
    '    from airflow import DAG',
    ...(uses.has('TaskGroup') ? ['    from airflow.utils.task_group import TaskGroup'] : [])
  ]
  if (uses.has('ShortCircuitOperator'))
    lines.push(
      'try:',
      '    from airflow.providers.standard.operators.python import ShortCircuitOperator',
      'except ImportError:',
      '    from airflow.operators.python import ShortCircuitOperator'
    )
  if (options.platform === 'kubernetes')
    lines.push(
      'from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator',
      'from kubernetes.client import models as k8s'
    )
  else
    lines.push(
      'from airflow.providers.docker.operators.docker import DockerOperator',
      `from docker.types import Mount${uses.has('Ulimit') ? ', Ulimit' : ''}`
    )
  return lines
}

interface Names {
  varOf: Map<string, string>
  matrixJobs: Set<string>
  /** What the generated code uses, for its imports. */
  uses: Set<string>
}

/** A job's code inside the DAG: its operator, or a TaskGroup of one per instance. */
function jobCode(job: ExportJob, plan: ExportPlan, options: ExportOptions, names: Names): string[] {
  const variable = names.varOf.get(job.id)!
  const { onSuccess, onFailure } = job.runsWhen
  const trigger = onSuccess && onFailure ? 'all_done' : onFailure ? 'one_failed' : undefined
  const lines: string[] = []
  const refer = reference(plan, names)
  const { matrix } = job
  const indent = matrix ? '        ' : '    '
  if (matrix) {
    names.uses.add('TaskGroup')
    lines.push(`    with TaskGroup(group_id=${py(job.id)}) as ${variable}:`)
  }
  for (const instance of job.instances) {
    const operator = instanceOperator(instance, job, plan, options, refer, names)
    if (trigger) operator.kwargs!.trigger_rule = trigger
    const target = matrix ? pyName('task', instance.slug) : variable
    lines.push(`${indent}${target} = ${py(operator, indent)}`)
  }
  if (!onSuccess && !onFailure) {
    // Airflow has no "never": a short circuit before the job skips it, and so, as in
    // GitHub Actions, the jobs that need it.
    names.uses.add('ShortCircuitOperator')
    const gate = call('ShortCircuitOperator', {
      task_id: `${job.id}-if`,
      python_callable: { code: 'lambda: False' },
      ignore_downstream_trigger_rules: false
    })
    lines.push(`    ${py(gate, '    ')} >> ${variable}`)
  }
  return lines
}

/** A Jinja expression, or text the export already knows. */
type Reference = { jinja: string } | { text: string }

function reference(plan: ExportPlan, names: Names) {
  return (p: Placeholder): Reference => {
    switch (p.kind) {
      case 'needs':
        if (names.matrixJobs.has(p.job))
          throw new ExportProblem(
            `needs.${p.job}.outputs.${p.key}: a matrix job's outputs (a list of every instance's) are not exported to Airflow yet`
          )
        return { jinja: `ti.xcom_pull(task_ids=${py(p.job)})[${py(p.key)}]` }
      case 'param':
        // Jinja writes True and ['a'] where a run writes true and ["a"]: only strings go as they are.
        return typeof plan.params[p.name] === 'string'
          ? { jinja: `params[${py(p.name)}]` }
          : { text: stringify(plan.params[p.name]) }
      case 'run_id':
        return { jinja: 'run_id' }
      case 'secret':
        // DockerOperator: an Airflow Variable of the same name (kept out of logs by Airflow
        // when its name says it is secret; see the README).
        return { jinja: `var.value[${py(p.name)}]` }
    }
  }
}

/**
 * A value for a field Airflow renders with Jinja: references become `{{ ... }}`, and any
 * text that Jinja would read (`{{`, `{%`, `{#`, as in sh's `${#x}`) goes in `{% raw %}`.
 */
function jinja(text: string, refer: (p: Placeholder) => Reference): string {
  const parts: string[] = []
  let literal = ''
  const flush = () => {
    if (/\{[{%#]/.test(literal) || literal.endsWith('{'))
      parts.push(`{% raw %}${literal}{% endraw %}`)
    else parts.push(literal)
    literal = ''
  }
  for (const piece of splitPlaceholders(text)) {
    if (typeof piece === 'string') {
      literal += piece
      continue
    }
    const ref = refer(piece)
    if ('text' in ref) literal += ref.text
    else {
      flush()
      parts.push(`{{ ${ref.jinja} }}`)
    }
  }
  flush()
  return parts.join('')
}

/** A value for a field Airflow does not render: one holding a reference is an error. */
function plain(text: string, field: string): string {
  if (placeholdersIn(text).length > 0)
    throw new ExportProblem(
      `${field}: Airflow does not render this field, so it cannot take a needs output, a param or the run id`
    )
  return text
}

function instanceOperator(
  instance: ExportInstance,
  job: ExportJob,
  plan: ExportPlan,
  options: ExportOptions,
  refer: (p: Placeholder) => Reference,
  names: Names
): PyCall {
  if (Object.keys(instance.services).length > 0)
    throw new ExportProblem('services: not exported to Airflow yet (Argo takes them as sidecars)')
  const keys = Object.keys(instance.outputs)
  const workingDir = instance.container.workingDir
  const script =
    instance.stages &&
    (workingDir && options.platform === 'kubernetes'
      ? `cd ${shValue(workingDir)} || exit 1\n`
      : '') +
      jobScript(
        job.id,
        instance.stages,
        instance.outputs,
        options.platform === 'kubernetes'
          ? { kind: 'json-file', file: XCOM_FILE }
          : { kind: 'json-line' }
      )
  const common: Record<string, PyValue | undefined> = {
    task_id: instance.slug,
    do_xcom_push: keys.length > 0
  }
  if (job.retry.count > 0) {
    names.uses.add('timedelta')
    common.retries = job.retry.count
    common.retry_delay = { code: `timedelta(seconds=${job.retry.delay_ms / 1000})` }
  }
  if (job.timeoutSeconds !== undefined) {
    names.uses.add('timedelta')
    common.execution_timeout = { code: `timedelta(seconds=${job.timeoutSeconds})` }
  }
  if (job.maxParallel !== undefined) {
    // Airflow caps tasks by pool: the pool must exist with max_parallel slots (README).
    common.pool = `ctr-${job.id}`
  }
  const text = (t: string) => jinja(t, refer)
  return options.platform === 'kubernetes'
    ? podOperator(instance, job, plan, options, script, common, text)
    : dockerOperator(instance, options, script, common, text, names)
}

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

function podOperator(
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

function nonEmpty<T extends object>(value: T): T | undefined {
  return Object.keys(value).length > 0 ? value : undefined
}

function dockerOperator(
  instance: ExportInstance,
  options: ExportOptions,
  script: string | undefined,
  common: Record<string, PyValue | undefined>,
  text: (t: string) => string,
  names: Names
): PyCall {
  const plan: ContainerPlan = instance.container
  if (plan.resources.ulimits.length > 0) names.uses.add('Ulimit')
  if (plan.image.kind !== 'pull')
    throw new ExportProblem(
      'build: the DockerOperator runs an image by name: build and push it, then name it in image'
    )
  const r = plan.resources
  const unsupported = [
    r.memoryReservationBytes !== undefined && 'memory_reservation',
    r.cpuReservation !== undefined && 'cpu_reservation',
    r.memorySwapBytes !== undefined && 'memswap_limit',
    r.cpusetCpus !== undefined && 'cpuset_cpus',
    r.pidsLimit !== undefined && 'pids_limit',
    r.gpus && 'gpus',
    plan.security.readOnlyRootfs && 'read_only',
    plan.security.capDrop.length > 0 && 'cap_drop',
    plan.placement && 'placement',
    plan.platform && 'platform'
  ].filter((key): key is string => typeof key === 'string' && !options.dropped.includes(key))
  if (unsupported.length > 0)
    throw new ExportProblem(`${unsupported.join(', ')}: the DockerOperator takes no such setting`)
  const mode = plan.network.mode
  const ports = plan.network.ports
  return call('DockerOperator', {
    ...common,
    image: text(plan.image.ref),
    force_pull: plan.image.policy === 'always' || undefined,
    command: script ? ['sh', '-c', text(script)] : plan.command?.map(text),
    entrypoint: script ? undefined : plan.entrypoint?.map((e) => plain(e, 'entrypoint')),
    environment: Object.fromEntries(Object.entries(plan.env).map(([k, v]) => [k, text(v)])),
    mounts: plan.mounts.map(dockerMount(options)),
    // Its own temporary folder is a host bind, which a remote engine does not have.
    mount_tmp_dir: false,
    working_dir: plan.workingDir && plain(plan.workingDir, 'working_dir'),
    user: plan.user,
    mem_limit: r.memoryBytes,
    cpus: r.cpus,
    shm_size: r.shmSizeBytes,
    ulimits:
      r.ulimits.length > 0
        ? r.ulimits.map((u) => call('Ulimit', { name: u.name, soft: u.soft, hard: u.hard }))
        : undefined,
    privileged: plan.security.privileged || undefined,
    cap_add: nonEmpty(plan.security.capAdd),
    // The run's own network is, for one DockerOperator, Docker's default.
    network_mode: mode === 'ctr-run' ? undefined : mode,
    extra_hosts: nonEmpty(
      Object.fromEntries(
        plan.network.extraHosts.map((h) => [
          h.slice(0, h.indexOf(':')),
          h.slice(h.indexOf(':') + 1)
        ])
      )
    ),
    dns: nonEmpty(plan.network.dns),
    port_bindings: nonEmpty(
      Object.fromEntries(
        ports.map((p) => [p.container, p.hostIp ? [p.hostIp, p.hostPort] : p.hostPort || null])
      ) as Record<string, PyValue>
    ),
    labels: nonEmpty(
      Object.fromEntries(
        Object.entries(plan.labels).filter(([k]) => !k.startsWith(LABEL_NAMESPACE))
      )
    ),
    xcom_all: common.do_xcom_push ? false : undefined,
    auto_remove: 'force'
  })
}

/** A mount as docker-py's Mount: the workspace is the named volume `--set workspace` names. */
function dockerMount(options: ExportOptions) {
  return (mount: MountPlan): PyCall => {
    switch (mount.type) {
      case 'workspace':
        return call('Mount', { source: options.workspace, target: CTR_ROOT, type: 'volume' })
      case 'volume':
        return call('Mount', {
          source: mount.source,
          target: plain(mount.target, 'volumes'),
          type: 'volume',
          read_only: mount.readOnly || undefined
        })
      case 'bind': {
        // The DockerOperator's engine has host folders; a map still moves them if given.
        const mapped = mappedPath(mount.source, options.maps)
        const source =
          mapped?.map.to.kind === 'hostPath'
            ? [mapped.map.to.path, mapped.rest].filter(Boolean).join('/')
            : mount.source
        return call('Mount', {
          source: plain(source, 'volumes'),
          target: plain(mount.target, 'volumes'),
          type: 'bind',
          read_only: mount.readOnly || undefined
        })
      }
      case 'tmpfs': {
        const bytes = tmpfsBytes(mount)
        return call('Mount', {
          source: null,
          target: mount.target,
          type: 'tmpfs',
          tmpfs_size: bytes
        })
      }
    }
  }
}
