import type { IJob } from 'kubernetes-models/batch/v1/Job'
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role'
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding'
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import type { IVolume } from 'kubernetes-models/v1/Volume'
import { stringify } from '../../pipeline/template.js'
import { eachJobAfterSuccess, workspaceScript } from '../shared/after-success.js'
import type { ExportInstance, ExportJob, ExportPlan } from '../shared/export-plan.js'
import { NameBook } from '../shared/k8s-names.js'
import { replacePlaceholders, type Placeholder } from '../shared/placeholders.js'
import { ExportProblem, podParts, podSpecFields, WORKSPACE_VOLUME } from '../shared/pod-parts.js'
import { shValue } from '../shared/job-script.js'
import { serviceContainer } from '../shared/service-container.js'
import type { ExportOptions } from '../shared/target-options.js'

/** One object of the export, in the order `kubectl apply -f` should create them. */
export type KubernetesObject =
  IServiceAccount | IRole | IRoleBinding | IPersistentVolumeClaim | IConfigMap | IJob

/** The init container that holds a Job back until the Jobs it needs have completed. */
export const WAIT_CONTAINER = 'wait-needs'
/** Its exit status when a need failed: the Job then fails at once (podFailurePolicy), not after retries. */
export const NEED_FAILED = 3
/** Where the scripts' ConfigMap is mounted in a job's container. */
const SCRIPTS_DIR = '/ctr-scripts'

/**
 * Waits for each Job named in its arguments to be Complete, in portable sh with kubectl:
 * a Job that Failed stops it with NEED_FAILED, and the Job it guards fails in turn, as
 * GitHub skips a job whose need failed. A Job not made yet is waited for.
 */
const WAIT_SCRIPT = `for job in "$@"; do
  while :; do
    state=$(kubectl get job "$job" -o 'jsonpath={.status.conditions[?(@.status=="True")].type}' 2>/dev/null) || state=
    case " $state " in
      *" Complete "*) break ;;
      *" Failed "*) echo "ctr-pipeline: Job $job, which this job needs, failed: this job does not run" >&2; exit ${NEED_FAILED} ;;
    esac
    sleep 2
  done
done`

/**
 * The pipeline as plain `batch/v1` Jobs, for clusters without Argo: a Job per job
 * instance, each held back by an init container (WAIT_SCRIPT) until the Jobs of its
 * needs have completed, with a ServiceAccount allowed to read Jobs; the stages' scripts
 * in a ConfigMap; the workspace one ReadWriteMany claim that every Job mounts at `/ctr`,
 * which also carries outputs from job to job (as on Batch). Jobs have fixed names, from
 * `--set run_name=` (default: the pipeline's name), which is also the run id: apply a
 * new run under a new name, or delete the old one first.
 */
export function kubernetesJobs(plan: ExportPlan, options: ExportOptions): KubernetesObject[] {
  const names = new NameBook()
  const run = names.name(options.runName ?? (plan.name || 'pipeline'))
  const named = (text: string) => names.name(`${run}-${text}`)
  const namespace = options.namespace ?? 'default'
  const labels = { 'app.kubernetes.io/managed-by': 'ctr-pipeline', 'ctr-pipeline/run': run }
  const meta = (name: string) => ({ name, namespace, labels })
  const ctx: Context = {
    plan,
    options,
    run,
    labels,
    workspace: named('workspace'),
    scripts: named('scripts'),
    waiter: options.serviceAccount ?? named('waiter'),
    podVolume: new Map(),
    claimOf: new Map(),
    scriptOf: {}
  }
  const volumeNames = new NameBook()
  const claims: IPersistentVolumeClaim[] = [claim(meta(ctx.workspace), options)]
  for (const [key, volume] of Object.entries(plan.volumes)) {
    ctx.podVolume.set(key, volumeNames.name(`vol-${key}`))
    if (volume.external) ctx.claimOf.set(key, volume.name ?? key)
    else {
      const name = named(`vol-${key}`)
      ctx.claimOf.set(key, name)
      claims.push(claim(meta(name), options))
    }
  }
  const jobs: IJob[] = []
  const jobsOf = new Map<string, string[]>()
  const target = {
    name: 'k8s',
    dropped: options.dropped,
    runsAfter: 'a Job here runs only once the Jobs it needs have completed (use --to argo)',
    holdsMaxParallel: true
  }
  eachJobAfterSuccess(plan, target, (job) => {
    if (job.retry.count > 0 && job.retry.delay_ms > 0 && !options.dropped.includes('retry.delay'))
      throw new ExportProblem(
        'retry.delay: a Job retries with its own backoff (10 s, doubling); --drop retry.delay takes it'
      )
    const needs = job.needs.flatMap((n) => jobsOf.get(n)!)
    let made = job.instances.map((instance) =>
      instanceJob(instance, job, needs, { ...ctx, meta: meta(named(instance.slug)) })
    )
    if (job.matrix && job.maxParallel !== undefined && !options.dropped.includes('max_parallel'))
      made = [
        indexedJob(made, job.maxParallel, job.failFast, { ...ctx, meta: meta(named(job.id)) })
      ]
    jobsOf.set(
      job.id,
      made.map((j) => j.metadata!.name!)
    )
    jobs.push(...made)
  })
  const objects: KubernetesObject[] = []
  if (!options.serviceAccount && jobs.some((j) => waitsFor(j).length > 0))
    objects.push(...waiterAccount(meta(ctx.waiter)))
  objects.push(...claims)
  if (Object.keys(ctx.scriptOf).length > 0)
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(ctx.scripts),
      data: ctx.scriptOf
    })
  objects.push(...jobs)
  return objects
}

interface Context {
  plan: ExportPlan
  options: ExportOptions
  run: string
  labels: Record<string, string>
  workspace: string
  scripts: string
  waiter: string
  /** A named volume's key: its volume's name in a pod, and its claim's name. */
  podVolume: Map<string, string>
  claimOf: Map<string, string>
  /** The ConfigMap's data, filled as Jobs are made: a script per instance of stages. */
  scriptOf: Record<string, string>
}

/** The Jobs a Job's init container waits for (its needs' Jobs). */
export function waitsFor(job: IJob): string[] {
  const wait = job.spec?.template.spec?.initContainers?.find((c) => c.name === WAIT_CONTAINER)
  return wait?.command?.slice(4) ?? []
}

function claim(
  metadata: IPersistentVolumeClaim['metadata'],
  options: ExportOptions
): IPersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata,
    spec: {
      // Jobs side by side on different nodes write the same workspace.
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: options.workspaceSize } },
      ...(options.storageClass ? { storageClassName: options.storageClass } : {})
    }
  }
}

/** A ServiceAccount that may read Jobs in the namespace, and nothing else: what waiting takes. */
function waiterAccount(metadata: {
  name: string
  namespace: string
  labels: Record<string, string>
}): KubernetesObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata,
      rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] }]
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: metadata.name, namespace: metadata.namespace }]
    }
  ]
}

function instanceJob(
  instance: ExportInstance,
  job: ExportJob,
  needs: string[],
  ctx: Context & { meta: { name: string; namespace: string; labels: Record<string, string> } }
): IJob {
  const { plan, options } = ctx
  // Jobs substitute nothing: params are their values now, the run id is the run's name.
  const reference = (p: Placeholder): string => {
    switch (p.kind) {
      case 'param':
        return stringify(plan.params[p.name])
      case 'run_id':
        return ctx.run
      case 'needs':
        throw new ExportProblem(
          'a needs output has a value only in a stage of a Kubernetes Job (the stage reads it from the workspace)'
        )
      case 'secret':
        throw new ExportProblem(`'\${${p.name}}' can only be given to an environment value`)
      case 'item':
        // exportPlan refuses a matrix made of outputs for Kubernetes Jobs before it gets here.
        throw new ExportProblem('a Kubernetes Job is given its completions when it is submitted')
    }
  }
  const pod = podParts(instance.container, {
    reference,
    secretName: options.secretName,
    maps: options.maps,
    hostMounts: plan.hostMounts[job.id] ?? [],
    namedVolume: (key) => ctx.podVolume.get(key)!,
    dropped: new Set(options.dropped)
  })
  const container: IContainer = { ...pod.container }
  const volumes: IVolume[] = [
    { name: WORKSPACE_VOLUME, persistentVolumeClaim: { claimName: ctx.workspace } }
  ]
  for (const [key, name] of ctx.podVolume)
    if (container.volumeMounts?.some((m) => m.name === name))
      volumes.push({ name, persistentVolumeClaim: { claimName: ctx.claimOf.get(key)! } })
  const script = workspaceScript(plan, job, instance, 'Kubernetes Jobs')
  if (script !== undefined) {
    const key = `${ctx.meta.name}.sh`
    ctx.scriptOf[key] = replacePlaceholders(script, reference)
    // A job of stages has no command of its own: its script is the command.
    container.command = ['sh', `${SCRIPTS_DIR}/${key}`]
    delete container.args
    container.volumeMounts = [
      ...(container.volumeMounts ?? []),
      { name: 'ctr-scripts', mountPath: SCRIPTS_DIR, readOnly: true }
    ]
    volumes.push({ name: 'ctr-scripts', configMap: { name: ctx.scripts } })
  }
  const initContainers: IContainer[] = []
  if (needs.length > 0)
    initContainers.push({
      name: WAIT_CONTAINER,
      image: options.waitImage,
      command: ['sh', '-c', WAIT_SCRIPT, WAIT_CONTAINER, ...needs]
    })
  for (const [key, service] of Object.entries(instance.services))
    initContainers.push({
      ...serviceContainer(key, service, reference, 'startupProbe'),
      // A native sidecar: it runs beside the job's container and stops when it is done.
      restartPolicy: 'Always'
    })
  const fields = podSpecFields(pod, Object.keys(instance.services))
  const serviceAccount = needs.length > 0 ? ctx.waiter : options.serviceAccount
  const spec: NonNullable<IJob['spec']> = {
    backoffLimit: job.retry.count,
    template: {
      metadata: { labels: { ...pod.labels, ...ctx.labels } },
      spec: {
        restartPolicy: 'Never',
        ...(serviceAccount ? { serviceAccountName: serviceAccount } : {}),
        ...(options.imagePullSecrets.length > 0
          ? { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }
          : {}),
        ...(initContainers.length > 0 ? { initContainers } : {}),
        containers: [container],
        ...fields,
        volumes: [...volumes, ...(fields.volumes ?? [])],
        ...(options.tolerations.length > 0 ? { tolerations: options.tolerations } : {}),
        ...(Object.keys(options.nodeSelector).length > 0
          ? { nodeSelector: { ...options.nodeSelector, ...fields.nodeSelector } }
          : {})
      }
    }
  }
  if (job.timeoutSeconds !== undefined) spec.activeDeadlineSeconds = job.timeoutSeconds
  if (needs.length > 0)
    spec.podFailurePolicy = {
      rules: [
        {
          action: 'FailJob',
          onExitCodes: { containerName: WAIT_CONTAINER, operator: 'In', values: [NEED_FAILED] }
        }
      ]
    }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      ...ctx.meta,
      annotations: {
        'ctr-pipeline/source': plan.file,
        'ctr-pipeline/job': job.id,
        ...(options.dropped.length > 0 ? { 'ctr-pipeline/dropped': options.dropped.join(',') } : {})
      }
    },
    spec
  }
}

/** What an Indexed Job's instances may differ in: what the pod's container is told. */
const PER_INSTANCE = ['env', 'command', 'args'] as const

/**
 * One Indexed Job for the instances of a matrix with `max_parallel`: `completions` of
 * them, `parallelism` at a time, each pod choosing its instance's script (and the
 * environment the matrix gives it) by `JOB_COMPLETION_INDEX`, through a script of its own
 * in the ConfigMap. Each instance keeps its retries (`backoffLimitPerIndex`); `fail_fast`
 * fails the Job at the first instance that fails (`maxFailedIndexes: 0`). The instances
 * must share everything else of their pod: an ExportProblem names the first key that differs.
 */
function indexedJob(
  instances: IJob[],
  maxParallel: number,
  failFast: boolean,
  ctx: Context & { meta: { name: string; namespace: string; labels: Record<string, string> } }
): IJob {
  const containers = instances.map((j) => j.spec!.template.spec!.containers[0])
  const shared = (job: IJob) => {
    const spec = structuredClone(job.spec!)
    const container = spec.template.spec!.containers[0]
    for (const key of PER_INSTANCE) delete container[key]
    return spec
  }
  const first = shared(instances[0])
  for (const job of instances.slice(1)) {
    const differs = firstDifference(first, shared(job))
    if (differs)
      throw new ExportProblem(
        `max_parallel: an Indexed Job runs every instance from one pod template, and its instances differ in ${differs}; --drop max_parallel exports a Job per instance`
      )
  }
  if (containers.some((c) => c.command?.[0] !== 'sh' || !c.command[1]?.startsWith(SCRIPTS_DIR)))
    throw new ExportProblem(
      "max_parallel: an Indexed Job's pod chooses its instance with a script, and a job that runs its image's own command has none; give the job stages, or --drop max_parallel"
    )
  const envOf = (c: IContainer) => new Map((c.env ?? []).map((e) => [e.name, JSON.stringify(e)]))
  const envs = containers.map(envOf)
  const common = (containers[0].env ?? []).filter((e) =>
    envs.every((env) => env.get(e.name) === JSON.stringify(e))
  )
  const branches = containers.map((c, index) => {
    const own = (c.env ?? []).filter((e) => !common.some((x) => x.name === e.name))
    for (const e of own)
      if (e.value === undefined)
        throw new ExportProblem(
          `max_parallel: the environment value ${e.name} comes from the cluster and differs by instance; --drop max_parallel exports a Job per instance`
        )
    const exports = own.map((e) => `export ${e.name}=${shValue(e.value!)}; `).join('')
    return `  ${index}) ${exports}exec ${c.command!.join(' ')} ;;`
  })
  const key = `${ctx.meta.name}.sh`
  ctx.scriptOf[key] = [
    '# Runs the instance of this Indexed Job that JOB_COMPLETION_INDEX names.',
    'case "$JOB_COMPLETION_INDEX" in',
    ...branches,
    `  *) echo "ctr-pipeline: no instance $JOB_COMPLETION_INDEX" >&2; exit 1 ;;`,
    'esac',
    ''
  ].join('\n')
  const spec = first
  spec.template.spec!.containers[0] = {
    ...spec.template.spec!.containers[0],
    command: ['sh', `${SCRIPTS_DIR}/${key}`],
    ...(common.length > 0 ? { env: common } : {})
  }
  const retries = spec.backoffLimit ?? 0
  delete spec.backoffLimit
  Object.assign(spec, {
    completionMode: 'Indexed',
    completions: instances.length,
    parallelism: maxParallel,
    backoffLimitPerIndex: retries,
    ...(failFast ? { maxFailedIndexes: 0 } : {})
  })
  return { ...instances[0], metadata: { ...instances[0].metadata, ...ctx.meta }, spec }
}

/** The path of the first value that differs between two objects (`template.spec.containers[0].image`). */
function firstDifference(a: unknown, b: unknown, at = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return at || '.'
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const path = Array.isArray(a) ? `${at}[${key}]` : at ? `${at}.${key}` : key
    const found = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      path
    )
    if (found) return found
  }
  return at
}
