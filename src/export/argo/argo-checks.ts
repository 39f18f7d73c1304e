import type { ITemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Template'
import type { ArgoManifest } from './argo-workflow.js'
import { DNS_LABEL } from '../shared/k8s-names.js'

/**
 * What Argo's schema does not say and a cluster would refuse (or run wrong) at submit:
 * every name a DNS-1123 label, each template and task name unique, every task's template
 * and `depends` resolving, no cycle among a DAG's tasks, every `{{inputs.parameters.X}}`
 * declared and every `{{tasks.T.outputs.parameters.K}}` an output of T's template, every
 * volume mount a volume of the pod. Returns the problems found, one line each.
 */
export function checkArgoManifest(manifest: ArgoManifest): string[] {
  const problems: string[] = []
  const { metadata } = manifest
  // A CronWorkflow holds the workflow's spec; its schedule was checked with the file.
  const spec = manifest.kind === 'CronWorkflow' ? manifest.spec.workflowSpec : manifest.spec
  const own = metadata.name ?? metadata.generateName?.replace(/-$/, '')
  if (!own || !DNS_LABEL.test(own)) problems.push(`metadata: '${own}' is not a DNS-1123 label`)
  const templates = new Map<string, ITemplate>()
  for (const t of spec.templates ?? []) {
    const name = t.name ?? ''
    if (!DNS_LABEL.test(name)) problems.push(`template '${name}' is not a DNS-1123 label`)
    if (templates.has(name)) problems.push(`template '${name}' is defined twice`)
    templates.set(name, t)
  }
  if (!templates.has(spec.entrypoint ?? ''))
    problems.push(`entrypoint '${spec.entrypoint}' is no template`)
  const podVolumes = new Set([
    ...(spec.volumes ?? []).map((v) => v.name),
    ...(spec.volumeClaimTemplates ?? []).map((c) => c.metadata?.name ?? '')
  ])
  for (const t of templates.values()) {
    const where = `template '${t.name}'`
    const declared = new Set((t.inputs?.parameters ?? []).map((p) => p.name))
    for (const input of referencesIn(t, /\{\{inputs\.parameters\.([^}]+)\}\}/g))
      if (!declared.has(input)) problems.push(`${where}: input '${input}' is not declared`)
    const volumes = new Set([...podVolumes, ...(t.volumes ?? []).map((v) => v.name)])
    const container = t.script ?? t.container
    for (const mount of container?.volumeMounts ?? [])
      if (!volumes.has(mount.name))
        problems.push(`${where}: volume mount '${mount.name}' has no volume`)
    if (t.dag) problems.push(...checkDag(t, templates))
  }
  return problems
}

function checkDag(dagTemplate: ITemplate, templates: Map<string, ITemplate>): string[] {
  const problems: string[] = []
  const where = `dag '${dagTemplate.name}'`
  const tasks = new Map((dagTemplate.dag?.tasks ?? []).map((task) => [task.name, task]))
  if (tasks.size !== (dagTemplate.dag?.tasks ?? []).length)
    problems.push(`${where}: a task name is used twice`)
  const edges = new Map<string, string[]>()
  for (const task of tasks.values()) {
    if (!DNS_LABEL.test(task.name))
      problems.push(`${where}: task '${task.name}' is not a DNS-1123 label`)
    if (!templates.has(task.template ?? ''))
      problems.push(
        `${where}: task '${task.name}' runs template '${task.template}', which is not defined`
      )
    const upstream = [
      ...(task.depends ?? '').matchAll(
        /([\w-]+)\.(?:Succeeded|Failed|Errored|Skipped|Omitted|Daemoned|AnySucceeded|AllFailed)\b/g
      )
    ].map((m) => m[1])
    for (const u of upstream)
      if (!tasks.has(u)) problems.push(`${where}: task '${task.name}' depends on '${u}', no task`)
    edges.set(task.name, upstream)
    const unordered = new Set<string>()
    for (const ref of referencesIn(
      task,
      /\{\{tasks\.([^.}]+)\.outputs\.parameters\.([^}]+)\}\}/g,
      2
    )) {
      const [t, key] = ref.split('\n')
      const read = `${where}: task '${task.name}' reads output '${key}' of '${t}'`
      const upstreamTask = tasks.get(t)
      const outputs = templates.get(upstreamTask?.template ?? '')?.outputs?.parameters ?? []
      if (!upstreamTask) problems.push(`${read}, no task`)
      else if (!outputs.some((p) => p.name === key)) problems.push(`${read}, which has none such`)
      if (upstreamTask && !upstream.includes(t)) unordered.add(t)
    }
    for (const t of unordered)
      problems.push(`${where}: task '${task.name}' reads '${t}' without depending on it`)
  }
  const cycle = findCycle(edges)
  if (cycle)
    problems.push(`${where}: tasks depend on each other in a circle: ${cycle.join(' -> ')}`)
  return problems
}

/** The captures of a pattern in every string of a value (groups joined by a newline). */
function referencesIn(value: unknown, pattern: RegExp, groups = 1): string[] {
  const text = JSON.stringify(value)
  return [...text.matchAll(pattern)].map((m) => m.slice(1, groups + 1).join('\n'))
}

function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node]
    state.set(node, 'open')
    path.push(node)
    for (const next of edges.get(node) ?? []) {
      const found = visit(next)
      if (found) return found
    }
    path.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of edges.keys()) {
    const found = visit(node)
    if (found) return found
  }
  return undefined
}
