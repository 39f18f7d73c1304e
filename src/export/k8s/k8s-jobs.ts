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
    runsAfter: 'a Job here runs only once the Jobs it needs have completed (use --to argo)'
  }
  eachJobAfterSuccess(plan, target, (job) => {
    if (job.retry.count > 0 && job.retry.delay_ms > 0 && !options.dropped.includes('retry.delay'))
      throw new ExportProblem(
        'retry.delay: a Job retries with its own backoff (10 s, doubling); --drop retry.delay takes it'
      )
    const needs = job.needs.flatMap((n) => jobsOf.get(n)!)
    const made = job.instances.map((instance) =>
      instanceJob(instance, job, needs, { ...ctx, meta: meta(named(instance.slug)) })
    )
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
