import { ContainerConfigError } from '../../plan/container-config-error.js'
import type { Dialect } from '../../pipeline/dialect/dialect-rules.js'
import { variableSyntax } from '../../pipeline/dialect/dialect-rules.js'
import { planContainer, planService } from '../../plan/container-plan.js'
import type { ContainerPlan } from '../../plan/container-plan.js'
import { stageStateDir } from '../../plan/container-paths.js'
import type { PipelinePlan } from '../../plan/pipeline-plan.js'
import { stageCommand } from '../../plan/stage-command.js'
import { renderWords } from '../../pipeline/command-words.js'
import {
  expressionScope,
  ExpressionError,
  type ExpressionScope
} from '../../pipeline/expression.js'
import type {
  JobSpec,
  MatrixRow,
  Pipeline,
  RetrySpec,
  StageSpec
} from '../../pipeline/pipeline-types.js'
import { PipelineFileError, type SourcePosition } from '../../pipeline/file-problems.js'
import { runsWhen, type RunsWhen } from './export-condition.js'
import { CLUSTER_CONTEXTS, ExportRenderError, renderForExport } from './export-render.js'
import type { OutputSource, ScriptStage } from './job-script.js'
import { placeholder } from './placeholders.js'
import { fanOutOf, type FanOut } from './fan-out.js'
import { withArticle } from '../../pipeline/nested-stages.js'

/** One job instance as an export has it: its container and, for a job of stages, its script. */
export interface ExportInstance {
  id: string
  slug: string
  matrix: MatrixRow
  /** Every value rendered; what only the cluster knows is a placeholder (placeholders.ts). */
  container: ContainerPlan
  /**
   * The job's stages, rendered: a target runs them with jobScript. Undefined for a job that
   * runs its image's command.
   */
  stages?: ScriptStage[]
  /** Where each job output comes from: the script hands them on as the target reads them. */
  outputs: Record<string, OutputSource>
  /** Its services, by key: containers beside it. */
  services: Record<string, ContainerPlan>
}

/** One job of an export. */
export interface ExportJob {
  id: string
  needs: string[]
  runsWhen: RunsWhen
  instances: ExportInstance[]
  /** It has a matrix: its instances are apart, and its outputs are lists of theirs. */
  matrix: boolean
  /**
   * Its matrix is made of an upstream output: its one instance is fanned out over the list
   * `needs.JOB.outputs.KEY` holds, each item a value (`fields` null) or a row of `fields`.
   */
  fanOut?: { job: string; key: string; fields: string[] | null }
  maxParallel?: number
  failFast: boolean
  timeoutSeconds?: number
  retry: RetrySpec
  position: SourcePosition
}

/**
 * The neutral plan every export target reads: the pipeline plan with each instance's
 * container rendered for a cluster. Params and matrix values are fixed now (they shape
 * the DAG); a bare `{{ params.X }}` in an environment value or a script stays a param
 * the target may take at submit time.
 */
export interface ExportPlan {
  name: string
  file: string
  params: Record<string, unknown>
  jobs: ExportJob[]
  /** Top-level named volumes, by the key mounts name them with. */
  volumes: Pipeline['volumes']
  /** Per job, where in the file each of its host mounts is, in the order of its bind mounts. */
  hostMounts: Record<string, SourcePosition[]>
  /** `on.schedule`, for a target that schedules (checked by exportPipeline); none when dropped. */
  schedule?: { crons: string[]; timezone: string }
}

/**
 * Makes the export plan of a pipeline plan. What the target cannot be told (a template
 * that reads the run's state, a condition on `needs`) is a PipelineFileError at its place in the
 * file, naming the target: exit 2, never a silently dropped key.
 */
export function exportPlan(
  plan: PipelinePlan,
  params: Record<string, unknown>,
  target: string
): ExportPlan {
  const problems: PipelineFileError['problems'] = []
  const at = (position: SourcePosition, where: string) => (error: unknown) => {
    if (
      error instanceof ExportRenderError ||
      error instanceof ExpressionError ||
      error instanceof ContainerConfigError
    )
      problems.push({ ...position, message: `export --to ${target}: ${where}: ${error.message}` })
    else throw error
  }
  const jobs = plan.jobs.map((planned): ExportJob => {
    const { job } = planned
    const where = `jobs.${job.id}`
    let when: RunsWhen = { onSuccess: true, onFailure: false }
    try {
      when = runsWhen(job.if, expressionScope({ params }), plan.pipeline.dialect === 'ddeutil')
    } catch (error) {
      at(job.position, `${where}.if`)(error)
    }
    try {
      when = ruleWhen(job, when, target)
    } catch (error) {
      at(job.position, `${where}.trigger-rule`)(error)
    }
    let fan: FanOut | undefined
    if (planned.after) {
      try {
        if (!FANS_OUT.includes(target))
          throw new ExportRenderError(laterMatrixProblem(planned.after, target))
        fan = fanOutOf(job, target)
      } catch (error) {
        at(job.strategy!.matrix!.position, `${where}.strategy.matrix`)(error)
      }
    }
    // A fanned-out job is one instance whose matrix values are the target's references.
    const sources = fan
      ? [
          {
            id: job.id,
            slug: `${job.id}-${placeholder({ kind: 'item', key: '#' })}`,
            job,
            matrix: fan.matrix
          }
        ]
      : planned.instances
    const instances = sources.flatMap((instance) => {
      const scope = expressionScope({
        params,
        matrix: instance.matrix,
        job: { id: job.id, instance: instance.id }
      })
      try {
        return [exportInstance(plan, instance, scope, at)]
      } catch (error) {
        at(job.position, where)(error)
        return []
      }
    })
    const exported: ExportJob = {
      id: job.id,
      needs: job.needs,
      runsWhen: when,
      instances,
      matrix: job.strategy?.matrix !== undefined,
      failFast: planned.failFast,
      retry: job.retry,
      position: job.position
    }
    if (fan) exported.fanOut = { ...fan.need, fields: fan.fields }
    if (planned.maxParallel !== undefined) exported.maxParallel = planned.maxParallel
    if (job.timeout_ms !== undefined) exported.timeoutSeconds = Math.ceil(job.timeout_ms / 1000)
    return exported
  })
  if (problems.length > 0) throw new PipelineFileError(problems)
  const hostMounts: ExportPlan['hostMounts'] = {}
  for (const access of plan.pipeline.hostAccess)
    if (access.hostPath !== undefined && access.job)
      (hostMounts[access.job] ??= []).push({
        file: access.file,
        line: access.line,
        col: access.col
      })
  const { pipeline } = plan
  const schedule = pipeline.on?.schedule ?? []
  return {
    name: pipeline.name,
    file: pipeline.file,
    params,
    jobs,
    volumes: pipeline.volumes,
    hostMounts,
    ...(schedule.length > 0
      ? { schedule: { crons: schedule.map((s) => s.cron), timezone: schedule[0].timezone } }
      : {})
  }
}

type At = (position: SourcePosition, where: string) => (error: unknown) => void

/** Targets that size a job's work when it is submitted: a matrix of outputs has no place there. */
const SIZED_AT_SUBMIT: Record<string, string> = {
  k8s: 'a Kubernetes Job is given its completions when it is submitted',
  batch: 'an AWS Batch array job is given its size when it is submitted'
}

/** The targets that fan a job out over an upstream output (fanOutOf). */
const FANS_OUT = ['argo']

/** Why a matrix made of upstream outputs is not exported to a target. */
function laterMatrixProblem(after: readonly string[], target: string): string {
  const jobs = after.map((n) => `'${n}'`).join(', ')
  const sized = SIZED_AT_SUBMIT[target]
  return sized
    ? `its matrix is made of the outputs of ${jobs}, known only once they ran, and ${sized}; export --to argo fans it out, or write the matrix in the file`
    : `its matrix is made of the outputs of ${jobs}, known only once they ran: export --to ${target} does not take such a matrix yet; export --to argo fans it out (withParam)`
}

/**
 * A job's trigger rule where the target can say the same: `all_success` is when a job runs
 * anyway, `all_done` runs after failures too. The GitHub fan-out decides every rule with
 * the scheduler's own (each runner's action); the others have no rule of that meaning
 * (Airflow's fire early, and its `one_*` mean at least one).
 */
function ruleWhen(job: JobSpec, when: RunsWhen, target: string): RunsWhen {
  const rule = job.trigger_rule
  if (rule === undefined || rule === 'all_success' || target === 'github') return when
  if (rule === 'all_done') return { onSuccess: when.onSuccess, onFailure: when.onSuccess }
  throw new ExportRenderError(
    `trigger-rule ${rule} has no counterpart with the same meaning in ${target}; export to github (its runners decide it as a run does)`
  )
}

function exportInstance(
  plan: PipelinePlan,
  instance: PipelinePlan['jobs'][number]['instances'][number],
  scope: ExpressionScope,
  at: At
): ExportInstance {
  const { job } = instance
  const runId = placeholder({ kind: 'run_id' })
  const variables = variableSyntax(plan.pipeline.dialect, 'container')
  const value = (text: string) => renderForExport(text, scope, { variables })
  const words = (list: readonly string[]) => renderWords(list, scope, value, CLUSTER_CONTEXTS)
  const planning = {
    runId,
    pipelineDir: plan.pipeline.dir,
    // Named volumes keep their keys: each target says what a key is on its cluster.
    namedVolumes: Object.fromEntries(Object.keys(plan.pipeline.volumes).map((k) => [k, k])),
    renderValue: value,
    renderWords: words
  }
  const container = planContainer(instance, { ...planning, runNetwork: 'ctr-run' })
  // `image` with `build` names what was built: the cluster pulls that name.
  if (container.image.kind === 'build' && container.image.name)
    container.image = { kind: 'pull', ref: container.image.name, policy: 'missing' }
  for (const [key, text] of Object.entries(job.container.environment))
    container.env[key] = renderForExport(text, scope, { variables, paramsAtSubmit: true })
  const services = Object.fromEntries(
    Object.keys(job.services).map((key) => [
      key,
      planService(instance, key, { ...planning, network: 'ctr-run' })
    ])
  )
  const exported: ExportInstance = {
    id: instance.id,
    slug: instance.slug,
    matrix: instance.matrix,
    container,
    outputs: {},
    services
  }
  if (!job.stages) {
    if (Object.keys(job.outputs).length > 0)
      throw new ExportRenderError('a job without stages has no script to write its outputs')
    return exported
  }
  const stages = job.stages.flatMap((stage, index): ScriptStage[] => {
    try {
      return [scriptStage(stage, index, instance.slug, scope, plan.pipeline.dialect)]
    } catch (error) {
      at(stage.position, `jobs.${job.id} stage ${stage.id}`)(error)
      return []
    }
  })
  // A stage that could not be exported is a problem already: its script would be wrong.
  if (stages.length === job.stages.length) {
    exported.stages = stages
    exported.outputs = outputSources(job, scope)
  }
  return exported
}

function scriptStage(
  stage: NonNullable<JobSpec['stages']>[number],
  index: number,
  slug: string,
  scope: ExpressionScope,
  dialect: Dialect
): ScriptStage {
  if (stage.nested || stage.type === 'raise')
    throw new ExportRenderError(
      `stages.${stage.id}: ${withArticle(stage.type)} stage is run by ctr-pipeline's own scheduler, in the job's container; its export is not written yet: run the pipeline with ctr-pipeline`
    )
  if (stage.type === 'process')
    throw new ExportRenderError(
      `stages.${stage.id}: a process stage reads its image's labels on the engine; not exported yet`
    )
  if (stage.retry > 0)
    throw new ExportRenderError(
      `stages.${stage.id}: a stage retry has no counterpart on a cluster (the job has one: set the job's retry)`
    )
  const env = (t: string) =>
    renderForExport(t, scope, {
      variables: variableSyntax(dialect, 'container'),
      paramsAtSubmit: true
    })
  // A ddeutil workflow's scripts read `${VAR}` and `$$` as its loader does, here too.
  const text = (t: string) =>
    renderForExport(t, scope, {
      variables: variableSyntax(dialect, 'script'),
      paramsAtSubmit: true
    })
  const script = stage.type === 'cmd' ? (stage.args ?? []).map(text) : text(stage.run ?? '')
  const exported: ScriptStage = {
    id: stage.id,
    command: stageCommand(stage, script),
    env: {
      ...Object.fromEntries(Object.entries(stage.env).map(([k, v]) => [k, env(v)])),
      ...pythonEnv(stage, dialect)
    },
    runsWhen: runsWhen(stage.if, scope, dialect === 'ddeutil'),
    continueOnError: stage.continue_on_error,
    stateDir: stageStateDir(slug, index)
  }
  if (stage.type === 'empty') exported.echo = text(stage.echo ?? stage.name)
  if (stage.sleep_ms !== undefined) exported.sleepSeconds = stage.sleep_ms / 1000
  if (stage.timeout_ms !== undefined)
    throw new ExportRenderError(
      'a stage timeout has no counterpart on a cluster (the job has one: set the job timeout)'
    )
  return exported
}

/**
 * What the `py` stage driver reads besides its script (see the stage runner): in an export,
 * `vars` must be constants, since a target's params and outputs reach a script as text.
 */
function pythonEnv(stage: StageSpec, dialect: Dialect): Record<string, string> {
  if (stage.type !== 'py') return {}
  const env: Record<string, string> = dialect === 'ddeutil' ? { CTR_PY_DDEUTIL: '1' } : {}
  if (stage.vars) {
    if (JSON.stringify(stage.vars).includes('{{'))
      throw new ExportRenderError(
        `stages.${stage.id}.vars: an export takes vars as constants only (a cluster hands params and outputs to a script as text): read the value in the script instead`
      )
    env.CTR_PY_VARS = JSON.stringify(stage.vars)
  }
  return env
}

const STAGE_OUTPUT = /^\{\{\s*stages\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)\s*\}\}$/

/**
 * Each job output: `{{ stages.S.outputs.K }}` on its own is read from stage S's output
 * file by the script; anything else is rendered now (and may hold `needs` placeholders).
 */
function outputSources(job: JobSpec, scope: ExpressionScope): Record<string, OutputSource> {
  const stages = job.stages ?? []
  return Object.fromEntries(
    Object.entries(job.outputs).map(([key, text]): [string, OutputSource] => {
      const match = STAGE_OUTPUT.exec(text.trim())
      const stage = match ? stages.findIndex((s) => s.id === match[1]) : -1
      if (match && stage >= 0) return [key, { stage, key: match[2] }]
      return [key, { value: renderForExport(text, scope, { paramsAtSubmit: true }) }]
    })
  )
}
