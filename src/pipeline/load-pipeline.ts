import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { artifactPatternProblem } from './artifact-patterns.js'
import { checkReferences } from './check-references.js'
import { splitWords } from './command-words.js'
import { findCycle } from './job-order.js'
import type {
  ContainerSpec,
  GpuSpec,
  JobSpec,
  MatrixRow,
  MatrixSpec,
  NamedVolumeSpec,
  NetworkSpec,
  ParamSpec,
  ParamType,
  Pipeline,
  RegistryAuthSpec,
  ResourcesSpec,
  RetrySpec,
  ServiceSpec,
  StageSpec,
  StageType,
  NestedStage,
  StrategySpec,
  TriggerRule,
  TriggerSpec,
  VolumeSpec
} from './pipeline-types.js'
import { cronProblem, isTimeZone, numericCron } from './schedule.js'
import { paramValueProblem } from './params.js'
import { fileAccess, findHostAccess, trustProblems } from './host-access.js'
import { parseDuration } from './quantities.js'
import { isRecord, list, record, string, strings, text, textMap, type Raw } from './raw-values.js'
import { schemaProblems } from './schema-validator.js'
import { readNames } from './template.js'
import { innerStageLists, innerStages, withArticle } from './nested-stages.js'
import { parseShortMount } from './short-mount.js'
import { variableNames, variableUses } from './variables.js'
import { imageReferenceProblem } from './image-reference.js'
import { inFileOrder, PipelineFileError, type FileProblem } from './file-problems.js'
import { describePath, YamlSource, type DocPath } from './yaml-source.js'
import { rewriteDialect, type DialectOptions } from './dialect/rewrite-dialect.js'
import type { Dialect } from './dialect/dialect-rules.js'
import { selectWorkflow, workflowNames } from './dialect/select-workflow.js'

/** Which workflow of a file to load (a file in ddeutil's keyed layout holds several). */
export interface LoadOptions extends DialectOptions {
  workflow?: string
  /** The flag or input that names it, for messages. */
  workflowFlag?: string
}

/** Reads and validates a pipeline file; throws PipelineFileError listing every problem found. */
export async function loadPipelineFile(file: string, options: LoadOptions = {}): Promise<Pipeline> {
  return parsePipeline(
    await readPipelineText(file),
    file,
    path.dirname(path.resolve(file)),
    options
  )
}

/**
 * Reads and validates every workflow of a file (one, unless it is in the keyed layout);
 * throws PipelineFileError listing every problem of all of them.
 */
export async function loadAllWorkflows(
  file: string,
  options: DialectOptions = {}
): Promise<Pipeline[]> {
  const text = await readPipelineText(file)
  const dir = path.dirname(path.resolve(file))
  const { source, problems } = YamlSource.parse(text, file)
  const names = problems.length > 0 ? [] : workflowNames(source)
  if (names.length === 0) return [parsePipeline(text, file, dir, options)]
  const pipelines: Pipeline[] = []
  const all: FileProblem[] = []
  for (const workflow of names)
    try {
      pipelines.push(parsePipeline(text, file, dir, { ...options, workflow }))
    } catch (error) {
      if (!(error instanceof PipelineFileError)) throw error
      all.push(...error.problems)
    }
  if (all.length > 0) throw new PipelineFileError(inFileOrder(all))
  return pipelines
}

async function readPipelineText(file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)
    throw new PipelineFileError([
      { file, line: 1, col: 1, message: `cannot read pipeline file: ${reason}` }
    ])
  }
  return text
}

/**
 * Parses pipeline text. `file` names it in messages; `dir` is where relative mount
 * sources resolve. Checks the text against the JSON Schema, then what a schema cannot
 * say (needs that exist, no cycles, expressions that read what exists and is upstream).
 * Throws PipelineFileError listing every problem, each at its line and column, in file order.
 */
export function parsePipeline(
  text: string,
  file: string,
  dir: string,
  options: LoadOptions = {}
): Pipeline {
  const { source: whole, problems } = YamlSource.parse(text, file)
  if (problems.some((p) => p.message.startsWith('YAML syntax error')))
    throw new PipelineFileError(problems)
  const selected = selectWorkflow(whole, options.workflow, options.workflowFlag)
  if (!('source' in selected)) throw new PipelineFileError([selected])
  const source = selected.source
  const dialect = rewriteDialect(source, options)
  problems.push(...dialect.problems)
  let raw: unknown
  try {
    raw = source.toJS()
  } catch (error) {
    // yaml refuses documents whose aliases expand too far (a "billion laughs").
    throw new PipelineFileError([
      { file, line: 1, col: 1, message: `YAML error: ${(error as Error).message}` }
    ])
  }
  problems.push(...schemaProblems(raw, source, dialect.silenced))
  // Read once: the names are what the run masks, the uses are where untrusted runs refuse.
  const uses = variableUses(raw, dialect.dialect)
  const pipeline = buildPipeline(raw, file, dir, source, variableNames(uses), dialect.dialect)
  pipeline.warnings = dialect.warnings
  if (selected.name !== undefined) pipeline.name = pipeline.workflow = selected.name
  if (options.defaultImage !== undefined) pipeline.defaultImage = options.defaultImage
  pipeline.hostAccess = [
    ...findHostAccess(pipeline.jobs, dir, pipeline.volumes, source),
    ...fileAccess(uses, raw, source)
  ]
  problems.push(
    ...crossChecks(pipeline, raw, source),
    ...checkReferences(pipeline, raw, source),
    // The Docker socket and `/` need allow_host_access whatever the run's trust mode.
    ...trustProblems(pipeline.hostAccess, pipeline.jobs, { untrusted: false, workspace: dir })
  )
  if (problems.length > 0) throw new PipelineFileError(inFileOrder(problems))
  return pipeline
}

// The builder below trusts the schema for shapes: where a value has the wrong type, the
// schema has reported it, and the builder only has to avoid crashing on it.
function buildPipeline(
  raw: unknown,
  file: string,
  dir: string,
  source: YamlSource,
  variables: string[],
  dialect: Dialect
): Pipeline {
  const top = record(raw)
  const context = { source, dialect, env: textMap(top.env) }
  const jobs = Object.entries(record(top.jobs)).map(([id, job]) =>
    buildJob(id, record(job), context)
  )
  return {
    file,
    dir,
    name: string(top.name) ?? path.basename(file),
    params: buildParams(top.params, source),
    jobs,
    volumes: buildVolumes(top.volumes),
    hostAccess: [],
    variables,
    dialect,
    warnings: [],
    ...(isRecord(top.on) ? { on: buildTrigger(top.on, source) } : {})
  }
}

function buildTrigger(raw: Raw, source: YamlSource): TriggerSpec {
  return {
    schedule: list(raw.schedule).flatMap((entry, i) => {
      const spec = record(entry)
      if (typeof spec.cronjob !== 'string') return []
      return [
        {
          cron: cronProblem(spec.cronjob) ? spec.cronjob.trim() : numericCron(spec.cronjob),
          timezone: string(spec.timezone) ?? 'UTC',
          position: source.valuePosition(['on', 'schedule', i, 'cronjob'])
        }
      ]
    }),
    release: strings(raw.release),
    position: source.keyPosition(['on'])
  }
}

/** What a schedule must be: cron lines every scheduler reads alike, in one known time zone. */
function triggerProblems(on: TriggerSpec, source: YamlSource): FileProblem[] {
  const problems: FileProblem[] = []
  const seen = new Map<string, number>()
  on.schedule.forEach((entry, i) => {
    const at = `on.schedule[${i}]`
    const why = cronProblem(entry.cron)
    if (why) problems.push({ ...entry.position, message: `${at}.cronjob '${entry.cron}' ${why}` })
    const first = seen.get(entry.cron)
    if (first !== undefined)
      problems.push({
        ...entry.position,
        message: `${at}.cronjob '${entry.cron}' is on.schedule[${first}]'s too; give each line once`
      })
    seen.set(entry.cron, i)
    if (!isTimeZone(entry.timezone))
      problems.push({
        ...source.valuePosition(['on', 'schedule', i, 'timezone']),
        message: `${at}.timezone '${entry.timezone}' is not a time zone name (IANA, such as UTC or Asia/Bangkok)`
      })
    else if (entry.timezone !== on.schedule[0].timezone)
      problems.push({
        ...source.valuePosition(['on', 'schedule', i, 'timezone']),
        message: `${at}.timezone '${entry.timezone}' differs from on.schedule[0]'s '${on.schedule[0].timezone}': a schedule has one time zone, as in ddeutil-workflow`
      })
  })
  if (on.schedule.length > 10)
    problems.push({
      ...source.keyPosition(['on', 'schedule']),
      message: `on.schedule has ${on.schedule.length} lines; at most 10, as in ddeutil-workflow`
    })
  return problems
}

function buildVolumes(raw: unknown): Record<string, NamedVolumeSpec> {
  return Object.fromEntries(
    Object.entries(record(raw)).map(([key, value]) => {
      const spec = record(value)
      const volume: NamedVolumeSpec = {
        external: spec.external === true,
        driver_opts: textMap(spec.driver_opts),
        labels: textMap(spec.labels)
      }
      if (string(spec.name) !== undefined) volume.name = string(spec.name)
      if (string(spec.driver) !== undefined) volume.driver = string(spec.driver)
      return [key, volume]
    })
  )
}

/** Milliseconds of a duration the schema has checked: seconds as a number, or `90s`. */
function duration(value: unknown): number | undefined {
  if (typeof value === 'number') return Math.round(value * 1000)
  return typeof value === 'string' ? parseDuration(value) : undefined
}

function buildRetry(raw: unknown): RetrySpec {
  if (typeof raw === 'number') return { count: raw, delay_ms: 0 }
  const spec = record(raw)
  return {
    count: typeof spec.count === 'number' ? spec.count : 0,
    delay_ms: duration(spec.delay) ?? 0
  }
}

function buildParams(raw: unknown, source: YamlSource): Record<string, ParamSpec> {
  return Object.fromEntries(
    Object.entries(record(raw)).map(([name, value]) => {
      const spec = record(value)
      const param: ParamSpec = {
        type: (string(spec.type) as ParamType | undefined) ?? 'str',
        required: spec.required === true,
        position: source.keyPosition(['params', name])
      }
      if (spec.default !== undefined) param.default = spec.default
      if (Array.isArray(spec.options)) param.options = spec.options as Array<string | number>
      if (typeof spec.precision === 'number') param.precision = spec.precision
      return [name, param]
    })
  )
}

/** What every job is built with: the file, its dialect and its top-level `env:`. */
interface BuildContext {
  source: YamlSource
  dialect: Dialect
  env: Record<string, string>
}

function buildJob(id: string, raw: Raw, context: BuildContext): JobSpec {
  const { source } = context
  const at: DocPath = ['jobs', id]
  const job: JobSpec = {
    id,
    needs: strings(typeof raw.needs === 'string' ? [raw.needs] : raw.needs),
    container: buildContainer(record(record(raw['runs-on']).with), context.dialect),
    outputs: textMap(raw.outputs),
    retry: buildRetry(raw.retry),
    artifacts: strings(raw.artifacts),
    services: Object.fromEntries(
      Object.entries(record(raw.services)).map(([key, v]) => [key, buildService(record(v))])
    ),
    allow_host_access: raw.allow_host_access === true,
    position: source.keyPosition(at)
  }
  // ddeutil's container provider times its container out (an hour unless it says).
  const withTimeout = record(record(raw['runs-on']).with).timeout
  const timeout =
    duration(raw.timeout) ??
    duration(withTimeout) ??
    (context.dialect === 'ddeutil' ? DDEUTIL_CONTAINER_TIMEOUT_MS : undefined)
  if (timeout !== undefined) job.timeout_ms = timeout
  if (string(raw.desc) !== undefined) job.desc = string(raw.desc)
  if (Array.isArray(raw.changed_files)) job.changed_files = strings(raw.changed_files)
  if (typeof raw.if === 'string' || typeof raw.if === 'boolean') job.if = raw.if
  const rule = string(raw.trigger_rule)
  if (rule !== undefined) job.trigger_rule = rule as TriggerRule
  else if (context.dialect === 'ddeutil' && job.needs.length > 0) job.trigger_rule = 'all_success'
  if (job.container.resources.cpu !== undefined)
    job.container.cpuPosition = source.valuePosition([...at, 'runs-on', 'with', 'resources', 'cpu'])
  if (isRecord(raw.strategy))
    job.strategy = buildStrategy(raw.strategy, [...at, 'strategy'], context)
  // GitHub's `env:` of the file and of the job reach every stage, the nearer one winning;
  // a job without stages has them in its container's environment, beneath its own.
  const env = { ...context.env, ...textMap(raw.env) }
  if (Array.isArray(raw.stages))
    job.stages = raw.stages.map((s, i) => {
      const stage = buildStage(record(s), i, [...at, 'stages', i], source)
      stage.env = { ...env, ...stage.env }
      return stage
    })
  else job.container.environment = { ...env, ...job.container.environment }
  return job
}

/**
 * Service health checks default to a fast rhythm (1 s between checks, 30 retries) rather
 * than Docker's 30 s: a CI job waits on them.
 */
export const HEALTHCHECK_DEFAULTS = {
  interval_ms: 1000,
  timeout_ms: 5000,
  retries: 30,
  start_period_ms: 0
}

function buildService(raw: Raw): ServiceSpec {
  const service: ServiceSpec = {
    image: string(raw.image) ?? '',
    env: textMap(raw.env),
    ports: Object.fromEntries(
      Object.entries(record(raw.ports)).map(([k, v]) => [k, text(v) ?? null])
    ),
    volumes: buildMounts(raw.volumes)
  }
  if (text(raw.user) !== undefined) service.user = text(raw.user)
  const auth = buildAuth(raw.auth)
  if (auth) service.auth = auth
  const command = splitWords(raw.command)
  if (command) service.command = command
  if (isRecord(raw.healthcheck)) {
    const check = raw.healthcheck
    // A string is a shell script, as in a Dockerfile's `HEALTHCHECK CMD script`.
    const words = typeof check.test === 'string' ? ['CMD-SHELL', check.test] : strings(check.test)
    service.healthcheck = {
      test: ['CMD', 'CMD-SHELL', 'NONE'].includes(words[0]) ? words : ['CMD', ...words],
      interval_ms: duration(check.interval) ?? HEALTHCHECK_DEFAULTS.interval_ms,
      timeout_ms: duration(check.timeout) ?? HEALTHCHECK_DEFAULTS.timeout_ms,
      retries: typeof check.retries === 'number' ? check.retries : HEALTHCHECK_DEFAULTS.retries,
      start_period_ms: duration(check.start_period) ?? HEALTHCHECK_DEFAULTS.start_period_ms
    }
  }
  return service
}

/** `volumes:` of a job or a service: `{source, target, mode}` maps or the short form. */
function buildMounts(raw: unknown): VolumeSpec[] {
  return list(raw).flatMap((v): VolumeSpec[] => {
    if (typeof v === 'string') return [parseShortMount(v) ?? { source: '', target: '', mode: 'rw' }]
    if (!isRecord(v)) return []
    const mode = v.mode === 'ro' ? 'ro' : 'rw'
    return [{ source: string(v.source) ?? '', target: string(v.target) ?? '', mode }]
  })
}

function buildAuth(raw: unknown): RegistryAuthSpec | undefined {
  if (!isRecord(raw)) return undefined
  const auth: RegistryAuthSpec = {
    username: text(raw.username) ?? '',
    password: text(raw.password) ?? ''
  }
  if (string(raw.registry)) auth.registry = string(raw.registry)
  return auth
}

/**
 * `strategy:`. What it leaves out takes GitHub's defaults (fail-fast on, no limit), or in a
 * ddeutil workflow ddeutil-workflow's (one instance at a time, fail-fast off).
 */
function buildStrategy(raw: Raw, at: DocPath, context: BuildContext): StrategySpec {
  const { source } = context
  const ddeutil = context.dialect === 'ddeutil'
  const strategy: StrategySpec = {
    fail_fast: typeof raw.fail_fast === 'boolean' ? raw.fail_fast : !ddeutil
  }
  if (typeof raw.max_parallel === 'number') strategy.max_parallel = raw.max_parallel
  else if (ddeutil) strategy.max_parallel = 1
  if (typeof raw.max_parallel !== 'number' || typeof raw.fail_fast !== 'boolean')
    strategy.defaults = ddeutil ? 'ddeutil-workflow' : 'GitHub'
  const position = () => source.keyPosition([...at, 'matrix'])
  if (typeof raw.matrix === 'string') {
    strategy.matrix = {
      axes: {},
      include: [],
      exclude: [],
      whole: raw.matrix,
      after: readNames(raw.matrix, 'needs'),
      position: position()
    }
  } else if (isRecord(raw.matrix)) {
    const { include, exclude, ...axes } = raw.matrix
    const rows = (value: unknown) =>
      typeof value === 'string' ? value : (list(value).filter(isRecord) as MatrixRow[])
    const matrix: MatrixSpec = {
      axes: Object.fromEntries(
        Object.entries(axes).filter(([, v]) => Array.isArray(v) || typeof v === 'string')
      ) as MatrixSpec['axes'],
      include: rows(include),
      exclude: rows(exclude),
      after: [],
      position: position()
    }
    const expressions = [...Object.values(matrix.axes), matrix.include, matrix.exclude]
    matrix.after = [
      ...new Set(expressions.flatMap((v) => (typeof v === 'string' ? readNames(v, 'needs') : [])))
    ]
    strategy.matrix = matrix
  }
  return strategy
}

/** ddeutil-workflow's container timeout when its file gives none: an hour. */
const DDEUTIL_CONTAINER_TIMEOUT_MS = 3_600_000

function buildContainer(raw: Raw, dialect: Dialect): ContainerSpec {
  const resources = record(raw.resources)
  const network = record(raw.network)
  const spec: ContainerSpec = {
    image: string(raw.image) ?? '',
    pull: raw.pull === 'always' || raw.pull === 'never' ? raw.pull : 'missing',
    volumes: buildMounts(raw.volumes),
    environment: textMap(raw.environment),
    resources: buildResources(resources, raw),
    network: {
      ports: Object.fromEntries(
        Object.entries(record(network.ports)).map(([k, v]) => [k, text(v) ?? null])
      ),
      extra_hosts: textMap(network.extra_hosts),
      dns: strings(network.dns)
    } satisfies NetworkSpec,
    tmpfs: Array.isArray(raw.tmpfs)
      ? Object.fromEntries(
          strings(raw.tmpfs).map((entry) => {
            const colon = entry.indexOf(':')
            return colon < 0 ? [entry, ''] : [entry.slice(0, colon), entry.slice(colon + 1)]
          })
        )
      : textMap(raw.tmpfs),
    ulimits: Object.fromEntries(
      Object.entries(record(raw.ulimits)).map(([name, value]) => {
        const limit = record(value)
        return typeof value === 'number'
          ? [name, { soft: value, hard: value }]
          : [name, { soft: Number(limit.soft), hard: Number(limit.hard) }]
      })
    ),
    read_only: raw.read_only === true,
    cap_add: strings(raw.cap_add),
    cap_drop: strings(raw.cap_drop),
    privileged: raw.privileged === true,
    labels: textMap(raw.labels)
  }
  if (string(raw.platform) !== undefined) spec.platform = string(raw.platform)
  if (isRecord(raw.placement))
    spec.placement = {
      constraints: strings(raw.placement.constraints),
      preferences: list(raw.placement.preferences)
        .filter(isRecord)
        .map((p) => ({ spread: string(p.spread) ?? '' }))
    }
  const build = typeof raw.build === 'string' ? { context: raw.build } : record(raw.build)
  if (string(build.context) !== undefined) {
    spec.build = { context: string(build.context)!, args: textMap(build.args) }
    if (string(build.dockerfile)) spec.build.dockerfile = string(build.dockerfile)
    if (string(build.target)) spec.build.target = string(build.target)
    if (build.push === true) spec.build.push = true
  }
  const auth = buildAuth(raw.auth)
  if (auth) spec.auth = auth
  const networkMode = string(network.network_mode) ?? string(network.network_name)
  if (networkMode) spec.network.network_mode = networkMode
  for (const key of ['container_name', 'working_dir'] as const)
    if (string(raw[key]) !== undefined) spec[key] = string(raw[key])
  // ddeutil's container provider works in /app unless told otherwise.
  if (dialect === 'ddeutil' && spec.working_dir === undefined) spec.working_dir = '/app'
  if (text(raw.user) !== undefined) spec.user = text(raw.user)
  if (string(raw.docker_host) !== undefined) spec.docker_host = string(raw.docker_host)
  if (raw.remove === false) spec.keep = true
  // ddeutil runs a command string with `sh -c`; elsewhere it is split into words.
  const command =
    dialect === 'ddeutil' && typeof raw.command === 'string'
      ? ['sh', '-c', raw.command]
      : splitWords(raw.command)
  const entrypoint = splitWords(raw.entrypoint)
  if (command) spec.command = command
  if (entrypoint) spec.entrypoint = entrypoint
  return spec
}

/**
 * `resources`, with `pids_limit`, `shm_size` and `gpus` also taken from `runs-on.with`
 * itself, where the contract lists them (giving one in both places is a problem).
 */
function buildResources(resources: Raw, withKeys: Raw): ResourcesSpec {
  const spec = Object.fromEntries(
    (
      [
        'memory',
        'cpu',
        'memory_reservation',
        'cpu_reservation',
        'cpuset_cpus',
        'memswap_limit'
      ] as const
    ).flatMap((k) => (text(resources[k]) === undefined ? [] : [[k, text(resources[k])]]))
  ) as ResourcesSpec
  const shm = text(resources.shm_size ?? withKeys.shm_size)
  if (shm !== undefined) spec.shm_size = shm
  const pids = resources.pids_limit ?? withKeys.pids_limit
  if (typeof pids === 'number') spec.pids_limit = pids
  const gpus = resources.gpus ?? withKeys.gpus
  if (gpus !== undefined) spec.gpus = buildGpus(gpus)
  return spec
}

/** `gpus: all`, `gpus: 2`, or `{count, device_ids, capabilities, driver}`, as `--gpus` reads them. */
function buildGpus(raw: unknown): GpuSpec {
  if (raw === 'all') return { count: -1, capabilities: ['gpu'] }
  if (typeof raw === 'number') return { count: raw, capabilities: ['gpu'] }
  const spec = record(raw)
  const gpus: GpuSpec = {
    capabilities: Array.isArray(spec.capabilities) ? strings(spec.capabilities) : ['gpu']
  }
  if (spec.count === 'all') gpus.count = -1
  else if (typeof spec.count === 'number') gpus.count = spec.count
  if (Array.isArray(spec.device_ids)) gpus.device_ids = strings(spec.device_ids)
  if (string(spec.driver) !== undefined) gpus.driver = string(spec.driver)
  return gpus
}

function buildStage(raw: Raw, index: number, at: DocPath, source: YamlSource): StageSpec {
  const declaredId = string(raw.id)
  const name = text(raw.name) ?? declaredId ?? `stage-${index + 1}`
  const stage: StageSpec = {
    id: declaredId ?? name,
    name,
    type: (string(raw.type) as StageType | undefined) ?? 'empty',
    env: textMap(raw.env),
    continue_on_error: raw.continue_on_error === true,
    retry: typeof raw.retry === 'number' ? raw.retry : 0,
    position: source.valuePosition(at)
  }
  if (text(raw.desc) !== undefined) stage.desc = text(raw.desc)
  if (typeof raw.sleep === 'number') stage.sleep_ms = Math.round(raw.sleep * 1000)
  if (isRecord(raw.vars)) stage.vars = raw.vars
  if (string(raw.run) !== undefined) stage.run = string(raw.run)
  if (text(raw.echo) !== undefined) stage.echo = text(raw.echo)
  if (Array.isArray(raw.args)) stage.args = splitWords(raw.args)
  if (string(raw.process) !== undefined)
    stage.process = string(raw.process)!.replace(/^process\./, '')
  if (isRecord(raw.inputs)) stage.inputs = raw.inputs
  if (typeof raw.if === 'string' || typeof raw.if === 'boolean') stage.if = raw.if
  const timeout = duration(raw.timeout)
  if (timeout !== undefined) stage.timeout_ms = timeout
  if (stage.type === 'raise') stage.raise = text(raw.raise) ?? ''
  const nested = buildNested(stage.type, raw, at, source)
  if (nested) stage.nested = nested
  return stage
}

/** The stages of a list in the file, each built at its place. */
function buildStages(raw: unknown, at: DocPath, source: YamlSource): StageSpec[] {
  return list(raw).map((s, i) => buildStage(record(s), i, [...at, i], source))
}

/** How a stage that holds stages runs them (NestedStage); undefined for any other. */
function buildNested(
  type: StageType,
  raw: Raw,
  at: DocPath,
  source: YamlSource
): NestedStage | undefined {
  const count = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback)
  switch (type) {
    case 'foreach':
      return {
        type,
        items: Array.isArray(raw.foreach) ? raw.foreach : (text(raw.foreach) ?? ''),
        stages: buildStages(raw.stages, [...at, 'stages'], source),
        concurrent: count(raw.concurrent, 1),
        useIndexAsKey: raw.use_index_as_key === true
      }
    case 'until':
      return {
        type,
        item: raw.item ?? 0,
        until: text(raw.until) ?? '',
        stages: buildStages(raw.stages, [...at, 'stages'], source),
        maxLoop: count(raw.max_loop, 10)
      }
    case 'parallel':
      return {
        type,
        branches: Object.entries(record(raw.parallel)).map(([name, stages]) => ({
          name,
          stages: buildStages(stages, [...at, 'parallel', name], source)
        })),
        maxWorkers: count(raw.max_workers, 2)
      }
    case 'case':
      return {
        type,
        value: text(raw.case) ?? '',
        match: list(raw.match).map((m, i) => {
          const entry = record(m)
          const where: DocPath = [...at, 'match', i]
          if ('else' in entry)
            return { stages: buildStages(entry.else, [...where, 'else'], source) }
          const stages = buildStages(entry.stages, [...where, 'stages'], source)
          return entry.case === '_' ? { stages } : { case: entry.case, stages }
        }),
        skipNotMatch: raw.skip_not_match === true
      }
    default:
      return undefined
  }
}

/** Stage keys that only one kind of stage (or two) reads, as ddeutil-workflow's models have them. */
const KEYS_OF_ONE_KIND: Record<string, readonly StageType[]> = {
  sleep: ['empty'],
  vars: ['py'],
  foreach: ['foreach'],
  concurrent: ['foreach'],
  use_index_as_key: ['foreach'],
  stages: ['foreach', 'until'],
  item: ['until'],
  until: ['until'],
  max_loop: ['until'],
  parallel: ['parallel'],
  max_workers: ['parallel'],
  case: ['case'],
  match: ['case'],
  skip_not_match: ['case'],
  raise: ['raise']
}

/**
 * A list of stages, and the lists its stages hold: each key belongs to the stage's kind,
 * and no two stages of one list share an id (an id names one stage's outputs).
 */
function stageChecks(
  stages: readonly StageSpec[],
  raw: readonly unknown[],
  at: DocPath,
  fail: (position: Omit<FileProblem, 'message'>, message: string) => void,
  source: YamlSource
) {
  const seen = new Map<string, number>()
  stages.forEach((stage, i) => {
    const where = describePath([...at, i])
    // A key of another kind of stage would be ignored: its stage is not what it means.
    for (const [key, kinds] of Object.entries(KEYS_OF_ONE_KIND))
      if (Object.hasOwn(record(raw[i]), key) && !kinds.includes(stage.type))
        fail(
          source.keyPosition([...at, i, key]),
          `${where}: '${key}' is for ${kinds.map(withArticle).join(' or ')} stage, not ${withArticle(stage.type)} one`
        )
    const first = seen.get(stage.id)
    if (first !== undefined)
      fail(
        stage.position,
        `${where}: stage ${first + 1} of this list already has the id '${stage.id}'; give one an 'id:'`
      )
    else seen.set(stage.id, i)
    const lists = innerStageLists(raw[i])
    innerStages(stage).forEach((inner, n) => {
      if (lists[n]) stageChecks(inner, lists[n][1], [...at, i, ...lists[n][0]], fail, source)
    })
  })
}

/** What the schema cannot express: relations between parts of the file. */
function crossChecks(pipeline: Pipeline, raw: unknown, source: YamlSource): FileProblem[] {
  const problems: FileProblem[] = pipeline.on ? triggerProblems(pipeline.on, source) : []
  const fail = (position: FileProblem | Omit<FileProblem, 'message'>, message: string) =>
    problems.push({ ...position, message })
  for (const [name, spec] of Object.entries(pipeline.params)) {
    const why = spec.default === undefined ? undefined : paramValueProblem(spec.default, spec)
    if (why)
      fail(source.valuePosition(['params', name, 'default']), `params.${name}.default: ${why}`)
  }
  const rawJobs = record(record(raw).jobs)
  const ids = new Set(pipeline.jobs.map((j) => j.id))
  for (const job of pipeline.jobs) {
    const at: DocPath = ['jobs', job.id]
    const rawJob = record(rawJobs[job.id])
    if (typeof rawJob.id === 'string' && rawJob.id !== job.id)
      fail(
        source.valuePosition([...at, 'id']),
        `jobs.${job.id}.id is '${rawJob.id}' but the job's key is '${job.id}'; they must match`
      )
    job.needs.forEach((need, i) => {
      if (ids.has(need)) return
      const needsAt = typeof rawJob.needs === 'string' ? [...at, 'needs'] : [...at, 'needs', i]
      fail(
        source.valuePosition(needsAt),
        `jobs.${job.id}.needs names '${need}', which is not a job in this file`
      )
    })
    const holders: Array<
      [DocPath, { volumes: VolumeSpec[]; auth?: RegistryAuthSpec; image?: string }]
    > = [
      [[...at, 'runs-on', 'with'], job.container],
      ...Object.entries(job.services).map(([key, service]): [DocPath, ServiceSpec] => [
        [...at, 'services', key],
        service
      ])
    ]
    for (const [holderAt, { volumes, auth, image }] of holders) {
      // A templated name is checked once rendered, when its job is planned.
      const imageProblem =
        image && !/\{\{|\$\{/.test(image) ? imageReferenceProblem(image) : undefined
      if (imageProblem)
        fail(
          source.valuePosition([...holderAt, 'image']),
          `${describePath(holderAt)}.image '${image}' ${imageProblem}`
        )
      volumes.forEach((volume, i) => {
        if (volume.target === '' || volume.target.startsWith('/') || volume.target.includes('{{'))
          return
        fail(
          source.valuePosition([...holderAt, 'volumes', i, 'target']),
          `${describePath(holderAt)}.volumes[${i}].target must be an absolute path in the container`
        )
      })
      if (auth && !/^\$\{\w+\}$/.test(auth.password.trim()))
        fail(
          source.valuePosition([...holderAt, 'auth', 'password']),
          `${describePath(holderAt)}.auth.password: write it as \${VAR} (from the environment or a secret), never in the file`
        )
    }
    if (
      rawJob.trigger_rule !== undefined &&
      typeof job.if === 'string' &&
      /\b(success|failure|always|cancelled)\s*\(/.test(job.if)
    )
      fail(
        source.valuePosition([...at, 'if']),
        `jobs.${job.id}: trigger-rule and a status function in if: both decide from the jobs it needs; keep one`
      )
    const rawWith = record(record(rawJob['runs-on']).with)
    if (job.container.build?.push && !job.container.image)
      fail(
        source.valuePosition([...at, 'runs-on', 'with', 'build', 'push']),
        `jobs.${job.id}.runs-on.with.build.push needs 'image:', the name to push the build to (e.g. registry.example.com/team/tool:1.0)`
      )
    const network = record(rawWith.network)
    if (network.network_mode !== undefined && network.network_name !== undefined)
      fail(
        source.keyPosition([...at, 'runs-on', 'with', 'network', 'network_name']),
        `jobs.${job.id}.runs-on.with.network: network_name and network_mode both say which network; keep one`
      )
    for (const key of ['pids_limit', 'shm_size', 'gpus']) {
      if (rawWith[key] !== undefined && record(rawWith.resources)[key] !== undefined)
        fail(
          source.keyPosition([...at, 'runs-on', 'with', key]),
          `jobs.${job.id}.runs-on.with: '${key}' is given both here and under 'resources'; keep one`
        )
    }
    const withAt: DocPath = [...at, 'runs-on', 'with']
    if (Object.keys(job.services).length > 0 && job.container.network.network_mode)
      fail(
        source.valuePosition([...withAt, 'network', 'network_mode']),
        `jobs.${job.id}: services are reached over the run's network; a job with services cannot set network_mode`
      )
    job.artifacts.forEach((pattern, i) => {
      // Relative patterns are checked at run time, once the working folder is known.
      const why = pattern.startsWith('/') ? artifactPatternProblem(pattern) : undefined
      if (why)
        fail(
          source.valuePosition([...at, 'artifacts', i]),
          `jobs.${job.id}.artifacts[${i}]: ${why}`
        )
    })
    if (job.stages) stageChecks(job.stages, list(rawJob.stages), [...at, 'stages'], fail, source)
  }
  const cycle = findCycle(
    pipeline.jobs.map((j) => ({ ...j, needs: j.needs.filter((n) => ids.has(n)) }))
  )
  if (cycle) {
    const first = pipeline.jobs.find((j) => j.id === cycle[0])!
    fail(first.position, `jobs form a cycle through 'needs': ${cycle.join(' -> ')}`)
  }
  return problems
}
