import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { LineCounter, parseDocument, type Node } from 'yaml'
import type {
  ContainerSpec,
  JobSpec,
  ParamSpec,
  ParamType,
  Pipeline,
  ResourcesSpec,
  StageSpec,
  StageType,
  VolumeSpec
} from './pipeline-types.js'
import { parseCpu, parseMemory } from './quantities.js'
import { orderJobs } from './job-order.js'
import { SpecError } from './spec-error.js'
import { YamlReader, type Entry } from './yaml-reader.js'

const TOP_KEYS = ['name', 'description', 'params', 'jobs'] as const
const JOB_KEYS = ['id', 'desc', 'needs', 'runs-on', 'stages', 'outputs'] as const
const RUNS_ON_KEYS = ['type', 'with'] as const
const WITH_KEYS = [
  'image',
  'container_name',
  'volumes',
  'environment',
  'resources',
  'working_dir',
  'user',
  'command',
  'entrypoint'
] as const
const RESOURCE_KEYS = ['memory', 'cpu', 'cpuset_cpus', 'memswap_limit'] as const
const VOLUME_KEYS = ['source', 'target', 'mode'] as const
const STAGE_KEYS = [
  'name',
  'id',
  'type',
  'run',
  'echo',
  'args',
  'env',
  'continue_on_error'
] as const
const PARAM_KEYS = ['type', 'default', 'required', 'desc', 'description'] as const
const PARAM_TYPES: readonly ParamType[] = ['str', 'int', 'float', 'bool', 'list', 'map']
const STAGE_TYPES: readonly StageType[] = ['empty', 'bash', 'sh', 'py', 'cmd']
const JOB_ID = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** Reads and validates a pipeline file; throws SpecError listing every problem found. */
export async function loadPipelineFile(file: string): Promise<Pipeline> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)
    throw new SpecError([
      { file, line: 1, col: 1, message: `cannot read pipeline file: ${reason}` }
    ])
  }
  return parsePipeline(text, file, path.dirname(path.resolve(file)))
}

/**
 * Parses pipeline text. `file` names it in messages; `dir` is where relative mount
 * sources resolve. Throws SpecError listing every problem, each at its line and column.
 */
export function parsePipeline(text: string, file: string, dir: string): Pipeline {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false })
  const reader = new YamlReader(file, lines)
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0].line ?? 1,
        col: e.linePos?.[0].col ?? 1,
        message: `YAML syntax error: ${e.message.split('\n')[0]}`
      }))
    )
  }
  const pipeline = readPipeline(reader, doc.contents as Node | null, file, dir)
  if (reader.problems.length > 0 || !pipeline) throw new SpecError(reader.problems)
  orderJobs(pipeline.jobs)
  return pipeline
}

function readPipeline(r: YamlReader, root: Node | null, file: string, dir: string) {
  const entries = r.entries(root, 'pipeline', TOP_KEYS)
  if (!entries) return undefined
  const pipeline: Pipeline = { file, dir, name: path.basename(file), params: {}, jobs: [] }
  let jobsNode: Node | null | undefined
  for (const { key, value } of entries) {
    if (key === 'name') pipeline.name = r.text(value, 'name') ?? pipeline.name
    if (key === 'params') pipeline.params = readParams(r, value)
    if (key === 'jobs') jobsNode = value
  }
  if (jobsNode === undefined) {
    r.fail(root, "pipeline has no 'jobs:'")
    return pipeline
  }
  const jobEntries = r.entries(jobsNode, 'jobs') ?? []
  if (jobsNode !== null && jobEntries.length === 0) r.fail(jobsNode, "'jobs:' is empty")
  for (const { key, keyNode, value } of jobEntries) {
    // Job ids name containers and folders and appear in expressions: keep them plain.
    if (!JOB_ID.test(key)) {
      r.fail(
        keyNode,
        `job id '${key}' must start with a letter or '_' and hold only letters, digits, '-' and '_'`
      )
    }
    const job = readJob(r, key, value, r.position(keyNode))
    if (job) pipeline.jobs.push(job)
  }
  checkNeeds(r, pipeline, jobEntries)
  return pipeline
}

function readParams(r: YamlReader, node: Node | null): Record<string, ParamSpec> {
  const params: Record<string, ParamSpec> = {}
  for (const { key, value } of r.entries(node, 'params') ?? []) {
    const spec: ParamSpec = { type: 'str', required: false }
    for (const field of r.entries(value, `params.${key}`, PARAM_KEYS) ?? []) {
      if (field.key === 'type')
        spec.type = r.oneOf(field.value, `params.${key}.type`, PARAM_TYPES) ?? 'str'
      if (field.key === 'default') spec.default = field.value?.toJSON()
      if (field.key === 'required')
        spec.required = r.boolean(field.value, `params.${key}.required`) ?? false
    }
    params[key] = spec
  }
  return params
}

function readJob(r: YamlReader, id: string, node: Node | null, position: JobSpec['position']) {
  const what = `jobs.${id}`
  const entries = r.entries(node, what, JOB_KEYS)
  if (!entries) return undefined
  const job: Partial<JobSpec> = { id, needs: [], outputs: {}, position }
  for (const { key, value } of entries) {
    if (key === 'desc') job.desc = r.text(value, `${what}.desc`)
    if (key === 'id') {
      const declared = r.text(value, `${what}.id`)
      if (declared !== undefined && declared !== id)
        r.fail(value, `${what}.id is '${declared}' but the job's key is '${id}'; they must match`)
    }
    if (key === 'needs') job.needs = r.stringList(value, `${what}.needs`) ?? []
    if (key === 'runs-on') job.container = readRunsOn(r, value, what)
    if (key === 'stages') job.stages = readStages(r, value, what)
    if (key === 'outputs') job.outputs = r.textMap(value, `${what}.outputs`) ?? {}
  }
  if (!entries.some((e) => e.key === 'runs-on')) r.fail(node, `${what} has no 'runs-on:'`)
  return job.container ? (job as JobSpec) : undefined
}

function readRunsOn(r: YamlReader, node: Node | null, job: string): ContainerSpec | undefined {
  const what = `${job}.runs-on`
  const entries = r.entries(node, what, RUNS_ON_KEYS)
  if (!entries) return undefined
  const type = entries.find((e) => e.key === 'type')
  if (type) r.oneOf(type.value, `${what}.type`, ['container'] as const)
  const withEntry = entries.find((e) => e.key === 'with')
  if (!withEntry) return r.fail(node, `${what} has no 'with:' (the container to run in)`)
  return readContainer(r, withEntry, `${what}.with`)
}

function readContainer(r: YamlReader, withEntry: Entry, what: string): ContainerSpec | undefined {
  const entries = r.entries(withEntry.value, what, WITH_KEYS)
  if (!entries) return undefined
  const spec: Partial<ContainerSpec> = { volumes: [], environment: {}, resources: {} }
  for (const { key, value } of entries) {
    const at = `${what}.${key}`
    if (key === 'image') spec.image = r.string(value, at)
    if (key === 'container_name') spec.container_name = r.string(value, at)
    if (key === 'working_dir') spec.working_dir = r.string(value, at)
    if (key === 'user') spec.user = r.text(value, at)
    if (key === 'environment') spec.environment = r.textMap(value, at) ?? {}
    if (key === 'resources') spec.resources = readResources(r, value, at)
    if (key === 'volumes') spec.volumes = readVolumes(r, value, at)
    if (key === 'command') spec.command = r.stringList(value, at)
    if (key === 'entrypoint') spec.entrypoint = r.stringList(value, at)
  }
  if (spec.image === undefined) {
    if (!entries.some((e) => e.key === 'image'))
      r.fail(withEntry.keyNode, `${what} has no 'image:'`)
    return undefined
  }
  return spec as ContainerSpec
}

function readResources(r: YamlReader, node: Node | null, what: string): ResourcesSpec {
  const out: ResourcesSpec = {}
  for (const { key, value } of r.entries(node, what, RESOURCE_KEYS) ?? []) {
    const text = r.text(value, `${what}.${key}`)
    if (text === undefined) continue
    const templated = text.includes('{{') || text.includes('${')
    if (key === 'memory' || key === 'memswap_limit') {
      if (
        !templated &&
        parseMemory(text) === undefined &&
        !(key === 'memswap_limit' && text === '-1')
      )
        r.fail(value, `${what}.${key}: '${text}' is not a memory size (examples: 512m, 2g, 1.5Gi)`)
    }
    if (key === 'cpu' && !templated && parseCpu(text) === undefined)
      r.fail(value, `${what}.cpu: '${text}' is not a CPU count (examples: 2, 1.5, 500m)`)
    out[key as keyof ResourcesSpec] = text
  }
  return out
}

function readVolumes(r: YamlReader, node: Node | null, what: string): VolumeSpec[] {
  const volumes: VolumeSpec[] = []
  for (const [i, item] of (r.sequence(node, what) ?? []).entries()) {
    const at = `${what}[${i}]`
    const volume: Partial<VolumeSpec> = { mode: 'rw' }
    const entries = r.entries(item, at, VOLUME_KEYS)
    if (!entries) continue
    for (const { key, value } of entries) {
      if (key === 'source') volume.source = r.string(value, `${at}.source`)
      if (key === 'target') volume.target = r.string(value, `${at}.target`)
      if (key === 'mode') volume.mode = r.oneOf(value, `${at}.mode`, ['ro', 'rw'] as const)
    }
    for (const required of ['source', 'target'] as const) {
      if (!entries.some((e) => e.key === required)) r.fail(item, `${at} has no '${required}:'`)
    }
    if (volume.target !== undefined && !volume.target.startsWith('/')) {
      const targetNode = entries.find((e) => e.key === 'target')?.value
      r.fail(targetNode, `${at}.target must be an absolute path in the container`)
    }
    if (volume.source !== undefined && volume.target !== undefined && volume.mode)
      volumes.push(volume as VolumeSpec)
  }
  return volumes
}

function readStages(r: YamlReader, node: Node | null, job: string): StageSpec[] {
  const stages: StageSpec[] = []
  const ids = new Set<string>()
  for (const [i, item] of (r.sequence(node, `${job}.stages`) ?? []).entries()) {
    const at = `${job}.stages[${i}]`
    const entries = r.entries(item, at, STAGE_KEYS)
    if (!entries) continue
    const stage: Partial<StageSpec> = {
      env: {},
      continue_on_error: false,
      position: r.position(item)
    }
    let declaredId: string | undefined
    for (const { key, value } of entries) {
      if (key === 'name') stage.name = r.text(value, `${at}.name`)
      if (key === 'id') declaredId = r.string(value, `${at}.id`)
      if (key === 'type') stage.type = r.oneOf(value, `${at}.type`, STAGE_TYPES)
      if (key === 'run') stage.run = r.string(value, `${at}.run`)
      if (key === 'echo') stage.echo = r.text(value, `${at}.echo`)
      if (key === 'args') stage.args = r.stringList(value, `${at}.args`)
      if (key === 'env') stage.env = r.textMap(value, `${at}.env`) ?? {}
      if (key === 'continue_on_error')
        stage.continue_on_error = r.boolean(value, `${at}.continue_on_error`) ?? false
    }
    stage.name ??= declaredId ?? `stage-${i + 1}`
    stage.id = declaredId ?? stage.name
    if (ids.has(stage.id))
      r.fail(item, `${at}: another stage of ${job} already has the id '${stage.id}'`)
    ids.add(stage.id)
    if (!entries.some((e) => e.key === 'type')) r.fail(item, `${at} has no 'type:'`)
    const needsRun = stage.type === 'bash' || stage.type === 'sh' || stage.type === 'py'
    if (needsRun && stage.run === undefined && !entries.some((e) => e.key === 'run'))
      r.fail(item, `${at}: a '${stage.type}' stage needs 'run:'`)
    if (stage.type === 'cmd' && stage.args === undefined && !entries.some((e) => e.key === 'args'))
      r.fail(item, `${at}: a 'cmd' stage needs 'args:' (the command and its arguments)`)
    if (stage.type) stages.push(stage as StageSpec)
  }
  return stages
}

function checkNeeds(
  r: YamlReader,
  pipeline: Pipeline,
  jobEntries: { key: string; value: Node | null }[]
) {
  const ids = new Set(jobEntries.map((e) => e.key))
  for (const job of pipeline.jobs) {
    for (const need of job.needs) {
      if (ids.has(need)) continue
      r.problems.push({
        ...job.position,
        message: `jobs.${job.id}.needs names '${need}', which is not a job in this file`
      })
    }
  }
}
