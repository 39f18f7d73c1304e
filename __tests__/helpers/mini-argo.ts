import type { ITemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Template'
import type { IWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Workflow'
import { randomBytes } from 'node:crypto'
import { PassThrough } from 'node:stream'
import * as tar from 'tar'
import { docker } from './engine.js'

/** How a task of an exported workflow went in miniArgo: Argo's phases, its output parameters. */
export interface TaskRun {
  phase: 'Succeeded' | 'Failed' | 'Skipped' | 'Omitted'
  outputs: Record<string, string>
  logs: string
}

/**
 * Plays an exported Argo Workflow on the local Docker engine, as far as ctr-pipeline's
 * exports use Argo: the main DAG's tasks in order, `depends` of `X.Succeeded` terms and
 * `when: 'false'`, nested DAGs (matrix jobs) with their `toJson([...])` outputs, tasks
 * `withParam` (each item in turn, `{{pod.name}}` told apart), script
 * templates run with `sh` in their image, env (secretKeyRef from `secrets`), the
 * workspace claim as one Docker volume, hostPath volumes as binds, output parameters read
 * from `valueFrom.path`, and Argo's `{{...}}` substitution. Anything else it meets is an
 * error, so an export that grows past it fails the test rather than passing unplayed.
 * Containers and the volume are labelled `ctr-pipeline.managed` and always removed.
 */
export async function miniArgo(
  workflow: IWorkflow,
  secrets: Record<string, Record<string, string>> = {}
): Promise<Record<string, TaskRun>> {
  const name = `mini-argo-${randomBytes(4).toString('hex')}`
  const labels = { 'ctr-pipeline.managed': 'true', 'ctr-pipeline.run-id': name }
  const volume = await docker.createVolume({ Name: `${name}-workspace`, Labels: labels })
  const templates = new Map((workflow.spec.templates ?? []).map((t) => [t.name!, t]))
  const globals: Record<string, string> = { 'workflow.name': name }
  for (const p of workflow.spec.arguments?.parameters ?? [])
    globals[`workflow.parameters.${p.name}`] = String(p.value)
  const ctx: Context = { templates, globals, secrets, labels, workspace: volume.name, runs: {} }
  try {
    const entry = templates.get(workflow.spec.entrypoint!)!
    await runDag(entry, {}, ctx, '')
    return ctx.runs
  } finally {
    const filters = JSON.stringify({ label: [`ctr-pipeline.run-id=${name}`] })
    for (const c of await docker.listContainers({ all: true, filters }))
      await docker.getContainer(c.Id).remove({ force: true })
    await docker.getVolume(volume.name).remove()
  }
}

interface Context {
  templates: Map<string, ITemplate>
  globals: Record<string, string>
  secrets: Record<string, Record<string, string>>
  labels: Record<string, string>
  workspace: string
  /** Every task run, by its path (`main/test/test-1`). */
  runs: Record<string, TaskRun>
}

function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([^=}][^}]*)\}\}/g, (whole, key: string) => {
    if (!(key in values)) throw new Error(`miniArgo: no value for ${whole}`)
    return values[key]
  })
}

async function runDag(
  dag: ITemplate,
  inputs: Record<string, string>,
  ctx: Context,
  prefix: string
): Promise<TaskRun> {
  const runs = new Map<string, TaskRun>()
  const values: Record<string, string> = { ...ctx.globals, ...inputs }
  for (const task of dag.dag!.tasks) {
    const path = `${prefix}${task.name}`
    const depends = task.depends ?? ''
    const terms = depends ? depends.split(' && ') : []
    const met = terms.every((term) => {
      const match = /^([\w-]+)\.Succeeded$/.exec(term)
      if (!match) throw new Error(`miniArgo: depends term '${term}' is not played`)
      return runs.get(match[1])?.phase === 'Succeeded'
    })
    let run: TaskRun
    if (task.when === 'false') run = { phase: 'Skipped', outputs: {}, logs: '' }
    else if (task.when !== undefined) throw new Error(`miniArgo: when '${task.when}' is not played`)
    else if (!met) run = { phase: 'Omitted', outputs: {}, logs: '' }
    else {
      const template = ctx.templates.get(task.template!)!
      const args = () => taskArguments(task, values)
      if (task.withParam !== undefined) run = await fanOut(task, template, values, ctx, path)
      else
        run = template.dag
          ? await runDag(template, args(), ctx, `${path}/`)
          : await runScript(template, { ...ctx.globals, ...args() }, ctx)
    }
    runs.set(task.name, run)
    ctx.runs[path] = run
    for (const [key, value] of Object.entries(run.outputs))
      values[`tasks.${task.name}.outputs.parameters.${key}`] = value
  }
  const phase = [...runs.values()].every((r) => r.phase !== 'Failed') ? 'Succeeded' : 'Failed'
  const outputs: Record<string, string> = {}
  for (const p of dag.outputs?.parameters ?? []) {
    const match = /^toJson\(\[(.*)\]\)$/.exec(p.valueFrom?.expression ?? '')
    if (!match) throw new Error(`miniArgo: output '${p.name}' of a DAG is not played`)
    const items = [...match[1].matchAll(/tasks\['([^']+)'\]\.outputs\.parameters\['([^']+)'\]/g)]
    outputs[p.name] = JSON.stringify(items.map((m) => runs.get(m[1])?.outputs[m[2]] ?? null))
  }
  return { phase, outputs, logs: '' }
}

/**
 * A task `withParam`: its template once per item of the JSON list, one after another
 * (each run recorded as `PATH(i)`), `{{item}}` and `{{item.KEY}}` in its arguments given
 * the item's values; an empty list skips the task, as Argo does.
 */
async function fanOut(
  task: NonNullable<ITemplate['dag']>['tasks'][number],
  template: ITemplate,
  values: Record<string, string>,
  ctx: Context,
  path: string
): Promise<TaskRun> {
  const items = JSON.parse(substitute(task.withParam!, values)) as unknown[]
  if (items.length === 0) return { phase: 'Skipped', outputs: {}, logs: '' }
  const runs: TaskRun[] = []
  for (const [i, item] of items.entries()) {
    const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))
    const itemValues: Record<string, string> = { ...values, item: text(item) }
    if (item !== null && typeof item === 'object')
      for (const [k, v] of Object.entries(item)) itemValues[`item.${k}`] = text(v)
    const pod = { 'pod.name': `${task.name}-${i}` }
    const args = taskArguments(task, itemValues)
    const run = await runScript(template, { ...ctx.globals, ...pod, ...args }, ctx)
    ctx.runs[`${path}(${i})`] = run
    runs.push(run)
  }
  const failed = runs.some((r) => r.phase === 'Failed')
  return { phase: failed ? 'Failed' : 'Succeeded', outputs: {}, logs: '' }
}

/** A task's arguments, as its template's `inputs.parameters.NAME`, with `values` substituted. */
function taskArguments(
  task: NonNullable<ITemplate['dag']>['tasks'][number],
  values: Record<string, string>
): Record<string, string> {
  return Object.fromEntries(
    (task.arguments?.parameters ?? []).map((p) => [
      `inputs.parameters.${p.name}`,
      substitute(String(p.value), values)
    ])
  )
}

async function runScript(
  template: ITemplate,
  values: Record<string, string>,
  ctx: Context
): Promise<TaskRun> {
  const script = template.script
  if (!script) throw new Error(`miniArgo: template '${template.name}' is not a script`)
  const defined: Record<string, string> = {}
  const env = (script.env ?? []).map((e) => {
    const ref = e.valueFrom?.secretKeyRef
    const value = ref
      ? ctx.secrets[ref.name!]?.[ref.key]
      : expandK8s(substitute(e.value ?? '', values), defined)
    if (value === undefined) throw new Error(`miniArgo: no secret for ${e.name}`)
    defined[e.name] = value
    return `${e.name}=${value}`
  })
  const volumes = new Map((template.volumes ?? []).map((v) => [v.name, v]))
  const binds = (script.volumeMounts ?? []).map((m) => {
    const mode = m.readOnly ? ':ro' : ''
    if (m.name === 'workspace') return `${ctx.workspace}:${m.mountPath}${mode}`
    const host = volumes.get(m.name)?.hostPath?.path
    if (!host) throw new Error(`miniArgo: volume '${m.name}' is not played (hostPath only)`)
    return `${host}${m.subPath ? `/${m.subPath}` : ''}:${m.mountPath}${mode}`
  })
  const container = await docker.createContainer({
    Image: script.image!,
    Cmd: [...script.command!, '-c', substitute(script.source ?? '', values)],
    Env: env,
    WorkingDir: script.workingDir,
    Labels: ctx.labels,
    HostConfig: { Binds: binds }
  })
  await container.start()
  const { StatusCode } = (await container.wait()) as { StatusCode: number }
  const logs = demux(await container.logs({ stdout: true, stderr: true }))
  const outputs: Record<string, string> = {}
  for (const p of template.outputs?.parameters ?? []) {
    outputs[p.name] = await readFile(container, p.valueFrom?.path ?? '').catch(() =>
      String(p.valueFrom?.default ?? '')
    )
  }
  await container.remove({ force: true })
  return { phase: StatusCode === 0 ? 'Succeeded' : 'Failed', outputs, logs }
}

/** A file's text from a stopped container (its mounts too), through the Engine API's archive. */
export async function readFile(container: ReturnType<typeof docker.getContainer>, file: string) {
  const archive = await container.getArchive({ path: file })
  const chunks: Buffer[] = []
  const parser = new tar.Parser({
    onReadEntry: (entry) => {
      entry.on('data', (c: Buffer) => chunks.push(c))
    }
  })
  await new Promise<void>((resolve, reject) => {
    archive.pipe(new PassThrough()).pipe(parser).on('end', resolve).on('error', reject)
  })
  return Buffer.concat(chunks).toString('utf8')
}

/** The text of a non-TTY container's log: frames of an 8-byte header and a payload. */
function demux(buffer: Buffer): string {
  let text = ''
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4)
    text += buffer.subarray(at + 8, at + 8 + size).toString('utf8')
    at += 8 + size
  }
  return text
}

/**
 * Kubernetes' expansion of an environment value: `$$` is `$`, `$(NAME)` is an earlier
 * variable's value (left as written when there is none), any other `$` stays.
 */
function expandK8s(text: string, defined: Record<string, string>): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$' || i + 1 >= text.length) out += text[i]
    else if (text[i + 1] === '$') {
      out += '$'
      i++
    } else if (text[i + 1] === '(') {
      const end = text.indexOf(')', i + 2)
      const name = end < 0 ? undefined : text.slice(i + 2, end)
      if (name !== undefined && name in defined) {
        out += defined[name]
        i = end
      } else out += '$'
    } else out += '$'
  }
  return out
}
