import type { IDAGTask } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/DAGTask'
import type { ITemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Template'
import type { IWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Workflow'
import type { IWorkflowTemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/WorkflowTemplate'
import type { ICronWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/CronWorkflow'
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import type { IVolume } from 'kubernetes-models/v1/Volume'
import { stringify } from '../../pipeline/template.js'
import { PipelineFileError, type FileProblem } from '../../pipeline/file-problems.js'
import type { RunsWhen } from '../shared/export-condition.js'
import type { ExportInstance, ExportJob, ExportPlan } from '../shared/export-plan.js'
import { jobScript } from '../shared/job-script.js'
import type { ExportOptions } from '../shared/target-options.js'
import { NameBook } from '../shared/k8s-names.js'
import { replacePlaceholders, type Placeholder } from '../shared/placeholders.js'
import { serviceContainer } from '../shared/service-container.js'
import { ExportProblem, podParts, podSpecFields, WORKSPACE_VOLUME } from '../shared/pod-parts.js'

/** What the export writes: a Workflow, a WorkflowTemplate, or a CronWorkflow for `on.schedule`. */
export type ArgoManifest = IWorkflow | IWorkflowTemplate | ICronWorkflow
type WorkflowSpec = IWorkflow['spec']

/** Where a job's script writes its outputs, a file per key, for Argo to read. */
const OUTPUTS_DIR = '/tmp/ctr-outputs'

/**
 * The pipeline as one Argo Workflow: a `main` DAG with a task per job, each job instance
 * a template whose script runs the job's stages (see jobScript), a matrix job a nested
 * DAG of its instances. A job reads an upstream output as an input parameter the task
 * passes from `{{tasks.JOB.outputs.parameters.KEY}}`.
 */
export function argoWorkflow(plan: ExportPlan, options: ExportOptions): ArgoManifest {
  const names = new NameBook()
  names.name('main')
  const taskOf = new Map(plan.jobs.map((job) => [job.id, names.name(job.id)]))
  const volumeOf = new Map(Object.keys(plan.volumes).map((key) => [key, names.name(`vol-${key}`)]))
  const problems: FileProblem[] = []
  const templates: ITemplate[] = []
  const tasks: IDAGTask[] = []
  for (const job of plan.jobs) {
    try {
      const made = jobTemplates(job, plan, options, { taskOf, volumeOf, names })
      templates.push(...made.templates)
      tasks.push(made.task)
    } catch (error) {
      if (!(error instanceof ExportProblem)) throw error
      const at = error.position ?? job.position
      problems.push({ ...at, message: `export --to argo: jobs.${job.id}: ${error.message}` })
    }
  }
  if (problems.length > 0) throw new PipelineFileError(problems)
  const claims: IPersistentVolumeClaim[] = [claim(WORKSPACE_VOLUME, options)]
  const volumes: IVolume[] = []
  for (const [key, volume] of Object.entries(plan.volumes)) {
    const name = volumeOf.get(key)!
    if (volume.external) {
      volumes.push({ name, persistentVolumeClaim: { claimName: volume.name ?? key } })
    } else claims.push(claim(name, options))
  }
  const spec: WorkflowSpec = {
    entrypoint: 'main',
    // Independent jobs go on after a failure, and always()/failure() jobs still run.
    templates: [{ name: 'main', dag: { failFast: false, tasks } }, ...templates],
    volumeClaimTemplates: claims
  }
  const params = Object.entries(plan.params)
  if (params.length > 0)
    spec.arguments = {
      parameters: params.map(([name, value]) => ({ name, value: stringify(value) }))
    }
  if (volumes.length > 0) spec.volumes = volumes
  if (options.imagePullSecrets.length > 0)
    spec.imagePullSecrets = options.imagePullSecrets.map((name) => ({ name }))
  if (options.serviceAccount) spec.serviceAccountName = options.serviceAccount
  if (Object.keys(options.nodeSelector).length > 0) spec.nodeSelector = options.nodeSelector
  if (options.tolerations.length > 0) spec.tolerations = options.tolerations
  const base = new NameBook().name(plan.name || 'pipeline')
  const named = options.template || plan.schedule !== undefined
  const metadata = {
    ...(named ? { name: base } : { generateName: `${base}-` }),
    ...(options.namespace ? { namespace: options.namespace } : {}),
    labels: { 'app.kubernetes.io/managed-by': 'ctr-pipeline' },
    annotations: {
      'ctr-pipeline/source': plan.file,
      ...(options.dropped.length > 0 ? { 'ctr-pipeline/dropped': options.dropped.join(',') } : {})
    }
  }
  if (plan.schedule)
    return {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'CronWorkflow',
      metadata,
      spec: {
        schedules: plan.schedule.crons,
        timezone: plan.schedule.timezone,
        // The runs share the workspace claim's name: one at a time, as Airflow's max_active_runs.
        concurrencyPolicy: 'Forbid',
        workflowSpec: spec
      }
    }
  return options.template
    ? { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata, spec }
    : { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata, spec }
}

function claim(name: string, options: ExportOptions): IPersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: {
      // Jobs side by side on different nodes write the same workspace.
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: options.workspaceSize } },
      ...(options.storageClass ? { storageClassName: options.storageClass } : {})
    }
  }
}

interface Names {
  taskOf: Map<string, string>
  volumeOf: Map<string, string>
  names: NameBook
}

/** A job's task in `main`, and its templates: one per instance, plus a DAG for a matrix. */
function jobTemplates(
  job: ExportJob,
  plan: ExportPlan,
  options: ExportOptions,
  names: Names
): { templates: ITemplate[]; task: IDAGTask } {
  const name = names.taskOf.get(job.id)!
  const inputs = new Map<string, Placeholder & { kind: 'needs' }>()
  const reference = (p: Placeholder): string => {
    switch (p.kind) {
      case 'needs': {
        if (plan.jobs.find((j) => j.id === p.job)?.fanOut)
          throw new ExportProblem(
            `needs.${p.job}.outputs.${p.key}: the outputs of a job fanned out over an upstream output (withParam) are not handed on in Argo yet`
          )
        const input = `${p.job}-${p.key}`
        inputs.set(input, p)
        return `{{inputs.parameters.${input}}}`
      }
      case 'param':
        return `{{workflow.parameters.${p.name}}}`
      case 'run_id':
        return '{{workflow.name}}'
      case 'secret':
        throw new ExportProblem(`'\${${p.name}}' can only be given to an environment value`)
      case 'item':
        // Each pod of a fan-out is its own instance: its name tells their folders apart.
        return p.key === '#' ? '{{pod.name}}' : `{{inputs.parameters.${itemParameter(p.key)}}}`
    }
  }
  if (job.fanOut) return fanOutTemplates(job, job.fanOut, plan, options, names, reference, inputs)
  const { matrix } = job
  const instanceTemplates = job.instances.map((instance) =>
    instanceTemplate(instance, job, plan, options, {
      name: matrix ? names.names.name(instance.slug) : name,
      reference,
      namedVolume: (key) => names.volumeOf.get(key)!
    })
  )
  const parameters = [...inputs.entries()].map(([input, p]) => {
    const upstream = names.taskOf.get(p.job)!
    return { name: input, value: `{{tasks.${upstream}.outputs.parameters.${p.key}}}` }
  })
  const declared = [...inputs.keys()].map((input) => ({ name: input }))
  if (declared.length > 0) for (const t of instanceTemplates) t.inputs = { parameters: declared }
  const task: IDAGTask = { name, template: name, ...dependsOn(job, names.taskOf) }
  if (parameters.length > 0) task.arguments = { parameters }
  if (!matrix) return { templates: instanceTemplates, task }
  const dag: ITemplate = {
    name,
    dag: {
      failFast: job.failFast,
      tasks: instanceTemplates.map((t) => ({
        name: t.name!,
        template: t.name!,
        ...(declared.length > 0
          ? {
              arguments: {
                parameters: declared.map(({ name: input }) => ({
                  name: input,
                  value: `{{inputs.parameters.${input}}}`
                }))
              }
            }
          : {})
      }))
    }
  }
  if (declared.length > 0) dag.inputs = { parameters: declared }
  if (job.maxParallel !== undefined) dag.parallelism = job.maxParallel
  const keys = Object.keys(job.instances[0]?.outputs ?? {})
  if (keys.length > 0)
    dag.outputs = {
      // As locally: every instance's value, in instance order.
      parameters: keys.map((key) => ({
        name: key,
        valueFrom: {
          expression: `toJson([${instanceTemplates
            .map((t) => `tasks['${t.name}'].outputs.parameters['${key}']`)
            .join(', ')}])`
        }
      }))
    }
  return { templates: [dag, ...instanceTemplates], task }
}

/** The input parameter of a fanned-out instance that holds its item (''), or a field of it. */
function itemParameter(field: string): string {
  return field ? `item-${field}` : 'item'
}

/**
 * A job fanned out over an upstream output (ExportJob.fanOut): a DAG template whose one
 * task runs the instance's template `withParam` over the list, `max_parallel` at a time,
 * each pod given its item (or the row's fields) as input parameters. An empty list skips
 * the task, as a run skips the job.
 */
function fanOutTemplates(
  job: ExportJob,
  fanOut: NonNullable<ExportJob['fanOut']>,
  plan: ExportPlan,
  options: ExportOptions,
  names: Names,
  reference: (p: Placeholder) => string,
  inputs: Map<string, Placeholder & { kind: 'needs' }>
): { templates: ITemplate[]; task: IDAGTask } {
  const name = names.taskOf.get(job.id)!
  const list = reference({ kind: 'needs', job: fanOut.job, key: fanOut.key })
  const each = instanceTemplate(job.instances[0], job, plan, options, {
    name: names.names.name(`${job.id}-item`),
    reference,
    namedVolume: (key) => names.volumeOf.get(key)!
  })
  const declared = [...inputs.keys()].map((input) => ({ name: input }))
  const items = (fanOut.fields ?? ['']).map((field) => ({
    name: itemParameter(field),
    value: field ? `{{item.${field}}}` : '{{item}}'
  }))
  each.inputs = { parameters: [...declared, ...items.map((i) => ({ name: i.name }))] }
  const dag: ITemplate = {
    name,
    inputs: { parameters: declared.map((d) => ({ ...d })) },
    dag: {
      failFast: job.failFast,
      tasks: [
        {
          name: each.name!,
          template: each.name!,
          withParam: list,
          arguments: {
            parameters: [
              ...declared.map(({ name: input }) => ({
                name: input,
                value: `{{inputs.parameters.${input}}}`
              })),
              ...items
            ]
          }
        }
      ]
    }
  }
  if (job.maxParallel !== undefined) dag.parallelism = job.maxParallel
  const parameters = [...inputs.entries()].map(([input, p]) => ({
    name: input,
    value: `{{tasks.${names.taskOf.get(p.job)!}.outputs.parameters.${p.key}}}`
  }))
  const task: IDAGTask = { name, template: name, ...dependsOn(job, names.taskOf) }
  task.arguments = { parameters }
  return { templates: [dag, each], task }
}

/**
 * When a job's task runs, from its `needs` and its `if:`: `depends` rather than
 * `dependencies`, so that a job whose need failed or was skipped is left out, as in
 * GitHub Actions, while `always()` and `failure()` jobs still run.
 */
function dependsOn(job: ExportJob, taskOf: Map<string, string>): Partial<IDAGTask> {
  const needs = job.needs.map((n) => taskOf.get(n)!)
  const { onSuccess, onFailure }: RunsWhen = job.runsWhen
  if (!onSuccess && !onFailure) return { when: 'false' }
  if (needs.length === 0) return onSuccess ? {} : { when: 'false' }
  if (onSuccess && onFailure)
    return {
      depends: needs
        .map(
          (n) => `(${n}.Succeeded || ${n}.Failed || ${n}.Errored || ${n}.Skipped || ${n}.Omitted)`
        )
        .join(' && ')
    }
  if (onSuccess) return { depends: needs.map((n) => `${n}.Succeeded`).join(' && ') }
  return { depends: needs.map((n) => `${n}.Failed || ${n}.Errored`).join(' || ') }
}

interface InstanceNames {
  name: string
  reference: (p: Placeholder) => string
  namedVolume: (key: string) => string
}

function instanceTemplate(
  instance: ExportInstance,
  job: ExportJob,
  plan: ExportPlan,
  options: ExportOptions,
  names: InstanceNames
): ITemplate {
  const pod = podParts(instance.container, {
    reference: names.reference,
    secretName: options.secretName,
    maps: options.maps,
    hostMounts: plan.hostMounts[job.id] ?? [],
    namedVolume: names.namedVolume,
    dropped: new Set(options.dropped)
  })
  const template: ITemplate = { name: names.name }
  if (instance.stages !== undefined) {
    const script = jobScript(job.id, instance.stages, instance.outputs, {
      kind: 'files',
      dir: OUTPUTS_DIR
    })
    // A job of stages has no entrypoint or command of its own: the script is its command.
    template.script = {
      ...pod.container,
      command: ['sh'],
      source: replacePlaceholders(script, names.reference)
    }
  } else template.container = pod.container
  const sidecars = Object.entries(instance.services).map(([key, service]) =>
    serviceContainer(key, service, names.reference, 'readinessProbe')
  )
  if (sidecars.length > 0) template.sidecars = sidecars
  const { hostNetwork, ...fields } = podSpecFields(pod, Object.keys(instance.services))
  Object.assign(template, fields)
  // A template has no hostNetwork field of its own: its pod spec is patched.
  if (hostNetwork) template.podSpecPatch = JSON.stringify({ hostNetwork })
  if (Object.keys(pod.labels).length > 0) template.metadata = { labels: pod.labels }
  const keys = Object.keys(instance.outputs)
  if (keys.length > 0)
    template.outputs = {
      parameters: keys.map((key) => ({
        name: key,
        valueFrom: { path: `${OUTPUTS_DIR}/${key}`, default: '' }
      }))
    }
  if (job.timeoutSeconds !== undefined) template.activeDeadlineSeconds = job.timeoutSeconds
  if (job.retry.count > 0)
    template.retryStrategy = {
      limit: job.retry.count,
      retryPolicy: 'Always',
      ...(job.retry.delay_ms > 0 ? { backoff: { duration: `${job.retry.delay_ms / 1000}s` } } : {})
    }
  return template
}
