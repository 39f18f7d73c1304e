import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  hostPathOf,
  planContainer,
  type ContainerPlan,
  type MountPlan
} from '../plan/container-plan.js'
import { stageStateDir } from '../plan/container-paths.js'
import { stageCommand } from '../plan/stage-command.js'
import { batchAt, batchCommand, newBatchMarker } from '../plan/stage-batches.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import { expressionScope, type ExpressionScope } from '../spec/expression.js'
import type { Pipeline, StageSpec } from '../spec/pipeline-types.js'
import { describeSize, formatDuration } from '../spec/quantities.js'
import { evaluateCondition, readsContext, render } from '../spec/template.js'
import { untilAborted } from './abortable.js'
import { copyArtifacts } from './artifacts.js'
import { describeExit } from './exit-description.js'
import {
  EngineLostError,
  FileTooLargeError,
  errorMessage,
  type Backend,
  type OutputHandler
} from '../backend/backend.js'
import type { ImageStore } from './image-store.js'
import { startServices, type RunningServices } from './services.js'
import { lineSplitter } from './line-splitter.js'
import { batchOutput } from './batch-output.js'
import { parseAnnotationFile } from './annotation-file.js'
import { parseOutputFile } from './output-file.js'
import type { RunReporter } from './run-reporter.js'
import type { JobResult, StageResult } from './run-result.js'
import type { ContainerGuard } from './untrusted-guard.js'
import type { ContainerWarmer, WarmContainer } from './warm-containers.js'

/** What a job needs from the run it belongs to. */
export interface JobRunContext {
  backend: Backend
  reporter: RunReporter
  pipeline: Pipeline
  runId: string
  workflowVolume: string
  /** Engine names of the top-level named volumes, by key. */
  namedVolumes: Record<string, string>
  /** The run's network. */
  runNetwork: string
  /** Untrusted mode: holds each container to its allow-list before it is built or created. */
  guard?: ContainerGuard
  /** How large `$CTR_OUTPUT` and `$CTR_ANNOTATIONS` may grow in one stage. */
  outputLimitBytes: number
  /** Values the reporters mask: a long line is never cut inside one. */
  secrets: readonly string[]
  /** What expressions read: `params`, `run_id`, `needs`, `matrix`, `job` (not `stages`). */
  values: Record<string, unknown>
  /** The environment the run was started in, for `${VAR}`. */
  env: Record<string, string | undefined>
  /** Where declared artifacts are copied, in a folder per instance. */
  artifactsDir: string
  /**
   * Makes the folders this (created) container needs in the workflow volume: the run's
   * shared ones and, where they fit in one upload, every instance's, through the first
   * container that asks (the engine's archive upload fails when two containers create one
   * folder at the same moment); an instance left out makes its own.
   */
  prepareVolume: (containerId: string, instance: PlannedInstance) => Promise<void>
  /** The run's images: each pulled or built once, whichever job asks first. */
  images: ImageStore
  keep: boolean
  /** Aborted when the run is cancelled, or a matrix sibling failed (fail_fast). */
  signal: AbortSignal
  /**
   * The changed files of the pull request that its `changed_files` matched, handed to
   * the job as `$CTR_CHANGED_FILES` (one per line); undefined for a job without the filter.
   */
  changedFiles?: string[]
  /** Containers made ready ahead of their job's turn, and removed after it. */
  warmer?: ContainerWarmer
}

/** Why a job's container was killed by the job itself: it ran out of time. */
class TimedOut extends Error {
  override name = 'TimedOut'
}

/**
 * Runs one job instance, and runs it again when it fails as long as its `retry` allows
 * (not when it was cancelled), waiting `retry.delay` in between. Never throws: every
 * failure becomes a failed JobResult with a message.
 */
export async function runJob(instance: PlannedInstance, ctx: JobRunContext): Promise<JobResult> {
  const { retry } = instance.job
  for (let attempt = 1; ; attempt++) {
    const result = await runAttempt(instance, ctx, attempt)
    if (result.status !== 'failure' || attempt > retry.count || ctx.signal.aborted) return result
    const wait = retry.delay_ms > 0 ? ` in ${formatDuration(retry.delay_ms)}` : ''
    ctx.reporter.warning(
      `attempt ${attempt} of ${retry.count + 1} failed (${result.error}); retrying${wait}`,
      instance
    )
    try {
      await sleep(retry.delay_ms, undefined, { signal: ctx.signal })
    } catch {
      return { ...result, status: 'cancelled' }
    }
  }
}

/**
 * One attempt at a job: creates its container from `runs-on.with`, runs its stages in it
 * one after another (or the image's own command), collects outputs and artifacts, and
 * removes the container. Cancellation and the job's `timeout` kill the container, which
 * ends whatever runs in it at once.
 */
async function runAttempt(
  instance: PlannedInstance,
  ctx: JobRunContext,
  attempt: number
): Promise<JobResult> {
  const { job } = instance
  const started = Date.now()
  const result: JobResult = {
    id: instance.id,
    job: job.id,
    matrix: instance.matrix,
    status: 'success',
    exit_code: null,
    oom_killed: false,
    timed_out: false,
    attempts: attempt,
    started_at: new Date(started).toISOString(),
    duration_ms: 0,
    outputs: {},
    stages: []
  }
  const timeout = new AbortController()
  const timer =
    job.timeout_ms === undefined
      ? undefined
      : setTimeout(
          () =>
            timeout.abort(new TimedOut(`job timed out after ${formatDuration(job.timeout_ms!)}`)),
          job.timeout_ms
        )
  const signal = AbortSignal.any([ctx.signal, timeout.signal])
  let containerId: string | undefined
  let services: RunningServices | undefined
  let killing: Promise<void> = Promise.resolve()
  const kill = () => {
    if (containerId) killing = ctx.backend.kill(containerId).catch(() => undefined)
  }
  // Values handed to Docker read `${VAR}` too; scripts leave it to the shell.
  const valueRenderer = (scope: ExpressionScope) => (text: string) =>
    render(text, scope, {
      variables: true,
      env: ctx.env,
      onMissingVar: (name) =>
        ctx.reporter.warning(`\${${name}} is not set in the environment; using ''`, instance)
    })
  try {
    const renderValue = valueRenderer(expressionScope(ctx.values))
    const planned = planContainer(instance, {
      ...planContext(ctx),
      renderValue,
      changedFiles: ctx.changedFiles
    })
    ctx.reporter.jobStarted(instance, planned.image.ref)
    await ctx.guard?.(planned)
    await untilAborted(ctx.images.prepare(planned.image), signal)
    const warm = attempt === 1 ? await ctx.warmer?.take(instance) : undefined
    // A kept container of an earlier attempt still holds the name.
    const name = attempt > 1 ? `${planned.name}-attempt${attempt}` : planned.name
    const container =
      warm ?? (await readyContainer(instance, planned, name, ctx, (id) => (containerId = id)))
    containerId = container.id
    signal.throwIfAborted()
    signal.addEventListener('abort', kill, { once: true })
    if (Object.keys(job.services).length > 0) {
      services = await startServices(instance, containerId, { ...ctx, renderValue, signal })
    }
    if (job.stages) {
      if (!container.started) await ctx.backend.startContainer(containerId)
      const stages = new StageRunner(instance, containerId, ctx, signal, result, {
        valueRenderer,
        memoryLimit: planned.resources.memoryBytes,
        mounts: planned.mounts
      })
      await stages.run(job.stages)
      if (result.status === 'success') result.exit_code = 0
    } else {
      const lines = reportedLines(ctx, instance)
      const exit = await ctx.backend.runContainer(containerId, lines.push)
      lines.flush()
      signal.throwIfAborted()
      result.exit_code = exit.exitCode
      result.oom_killed = exit.oomKilled
      if (exit.exitCode !== 0 || exit.oomKilled) {
        const limitBytes = planned.resources.memoryBytes
        fail(result, describeExit(exit.exitCode, { killed: exit.oomKilled, limitBytes }))
      }
    }
    signal.throwIfAborted()
    if (result.status === 'success') {
      const withStages = expressionScope({ ...ctx.values, stages: stagesContext(result.stages) })
      for (const [key, template] of Object.entries(job.outputs)) {
        result.outputs[key] = render(template, withStages)
      }
    }
  } catch (error) {
    if (!signal.aborted) fail(result, errorMessage(error))
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', kill)
    await killing
    if (signal.aborted) endAborted(result, signal.reason)
    if (containerId) {
      if (job.artifacts.length > 0 && !ctx.signal.aborted) {
        await collectArtifacts(instance, containerId, ctx, result)
      }
      if (ctx.keep) {
        // Kept for debugging, as it is.
      } else if (services || !ctx.warmer) {
        await ctx.backend.removeContainer(containerId).catch(() => undefined)
      } else {
        // Nothing waits on its removal but the end of the run.
        ctx.warmer.removeLater(containerId)
      }
    }
    // After the job's container: a network cannot go while a container is on it.
    if (services && !ctx.keep) await services.stop().catch(() => undefined)
  }
  result.duration_ms = Date.now() - started
  ctx.reporter.jobFinished(instance, result)
  return result
}

/**
 * Creates an instance's container and its folders in the workflow volume; starts it when
 * the job runs stages and has no services (those connect it to their network first).
 * `onCreated` learns the container's id at once: whoever asked removes it, also when a
 * later step fails (or keeps it, with `--keep`, to be looked at).
 */
async function readyContainer(
  instance: PlannedInstance,
  planned: ContainerPlan,
  name: string,
  ctx: Pick<JobRunContext, 'backend' | 'prepareVolume'>,
  onCreated: (id: string) => void
): Promise<WarmContainer> {
  const { job } = instance
  const id = await ctx.backend.createContainer({ ...planned, name })
  onCreated(id)
  const start = job.stages !== undefined && Object.keys(job.services).length === 0
  await ctx.prepareVolume(id, instance)
  if (start) await ctx.backend.startContainer(id)
  return { id, started: start }
}

/**
 * Makes an instance's container ready before its turn (see ContainerWarmer), from what is
 * known before the jobs it needs have run; undefined when its container reads `needs`.
 */
export async function warmContainer(
  instance: PlannedInstance,
  ctx: Omit<JobRunContext, 'signal'>
): Promise<WarmContainer | undefined> {
  let readsNeeds = false
  const scope = expressionScope(ctx.values)
  const planned = planContainer(instance, {
    ...planContext(ctx),
    changedFiles: ctx.changedFiles,
    renderValue: (text) => {
      if (readsContext(text, 'needs')) readsNeeds = true
      if (readsNeeds) return text
      // The job renders it again when it starts, and warns then of what is missing.
      return render(text, scope, { variables: true, env: ctx.env, onMissingVar: () => {} })
    }
  })
  if (readsNeeds) return undefined
  // Untrusted: a container that starts only at its turn (a job with services) would have
  // its binds resolved by the engine then, after the guard looked at them.
  const mountsLater = Object.keys(instance.job.services).length > 0
  if (ctx.guard && mountsLater && planned.mounts.some((m) => m.type === 'bind')) return undefined
  await ctx.guard?.(planned)
  await ctx.images.prepare(planned.image)
  let created: string | undefined
  try {
    return await readyContainer(instance, planned, planned.name, ctx, (id) => (created = id))
  } catch (error) {
    // The job tries again when its turn comes, and reports what fails then.
    if (created) await ctx.backend.removeContainer(created).catch(() => undefined)
    throw error
  }
}

/** What planning a container takes from the run. */
function planContext(ctx: Omit<JobRunContext, 'signal'>) {
  return {
    runId: ctx.runId,
    pipelineDir: ctx.pipeline.dir,
    namedVolumes: ctx.namedVolumes,
    runNetwork: ctx.runNetwork
  }
}

/** A job stopped from outside is cancelled; one that ran out of time failed. */
function endAborted(result: JobResult, reason: unknown) {
  if (reason instanceof TimedOut || reason instanceof EngineLostError) {
    result.status = 'failure'
    result.timed_out = reason instanceof TimedOut
    result.error = reason.message
  } else {
    result.status = 'cancelled'
    result.error = typeof reason === 'string' ? reason : 'cancelled'
  }
}

/** Copies the job's artifacts out; a pattern that matches nothing is a warning. */
async function collectArtifacts(
  instance: PlannedInstance,
  containerId: string,
  ctx: JobRunContext,
  result: JobResult
) {
  const dest = path.join(ctx.artifactsDir, instance.slug)
  try {
    const copied = await copyArtifacts(ctx.backend, containerId, instance.job.artifacts, dest)
    for (const pattern of copied.missing) {
      ctx.reporter.warning(`artifact '${pattern}' matched no files`, instance)
    }
    if (copied.files > 0) result.artifacts = { dir: dest, files: copied.files }
  } catch (error) {
    fail(result, `copying artifacts to ${dest} failed: ${errorMessage(error)}`)
  }
}

/**
 * Runs a job's stages in its container, one after another. Consecutive stages whose
 * commands are known up front run as a batch, in one exec (see batchCommand): an exec
 * costs the engine tens of milliseconds, a subshell next to nothing. The others (an `if:`,
 * a timeout, a script that reads `stages.*`) run in an exec of their own.
 */
class StageRunner {
  /** A stage that timed out killed the container; the next stage that runs restarts it. */
  private stopped = false
  /** The container's OOM kill count when last read, to tell which stage a kill belongs to. */
  private memoryKills = 0

  constructor(
    private readonly instance: PlannedInstance,
    private readonly containerId: string,
    private readonly ctx: JobRunContext,
    private readonly signal: AbortSignal,
    private readonly result: JobResult,
    private readonly options: {
      valueRenderer: (scope: ExpressionScope) => (text: string) => string
      /** The container's memory limit in bytes, named when a stage hits it. */
      memoryLimit?: number
      /** Its mounts: annotations about a mounted path point at the host's file. */
      mounts: readonly MountPlan[]
    }
  ) {}

  async run(stages: StageSpec[]) {
    for (let index = 0; index < stages.length;) {
      const batch = this.canBatch() ? this.batchFrom(stages, index) : []
      if (batch.length > 0) {
        index += await this.runBatch(batch)
        continue
      }
      await this.runOne(stages[index], index)
      index++
    }
  }

  /** A batch runs its stages on the assumption that all before them succeeded. */
  private canBatch(): boolean {
    return !this.signal.aborted && this.result.status !== 'failure' && !this.stopped
  }

  /** The stages that run in one batch from `from` on, each with what it runs. */
  private batchFrom(stages: StageSpec[], from: number): Array<PreparedStage> {
    const scope = this.scope()
    const prepared = new Map<number, PreparedStage>()
    const prepare = (i: number) => {
      let stage = prepared.get(i)
      if (!stage) {
        stage = { index: i, spec: stages[i], ...this.prepare(stages[i], i, scope) }
        prepared.set(i, stage)
      }
      return stage
    }
    const size = (i: number) => {
      const { command, env } = prepare(i)
      return [...command, ...env].reduce((n, arg) => n + Buffer.byteLength(arg) + 1, 0)
    }
    return batchAt(stages, from, size).map(prepare)
  }

  /** What expressions read at this point: the run's values and the stages so far. */
  private scope(): ExpressionScope {
    return expressionScope({ ...this.ctx.values, stages: stagesContext(this.result.stages) })
  }

  /** A stage's command line and environment, rendered in `scope`. */
  private prepare(stage: StageSpec, index: number, scope: ExpressionScope) {
    // Scripts are handed to the shell as written, so `${VAR}` there is the shell's own.
    const script =
      stage.type === 'cmd'
        ? (stage.args ?? []).map((a) => render(a, scope))
        : render(stage.run ?? '', scope)
    const stateDir = stageStateDir(this.instance.slug, index)
    const renderValue = this.options.valueRenderer(scope)
    const env = [
      `CTR_OUTPUT=${stateDir}/output`,
      `CTR_ANNOTATIONS=${stateDir}/annotations`,
      `CTR_STAGE_ID=${stage.id}`,
      ...Object.entries(stage.env).map(([k, v]) => `${k}=${renderValue(v)}`)
    ]
    return { command: stageCommand(stage, script), env, stateDir }
  }

  private newResult(stage: StageSpec): StageResult {
    const stageResult: StageResult = {
      id: stage.id,
      name: stage.name,
      type: stage.type,
      status: 'success',
      exit_code: null,
      oom_killed: false,
      timed_out: false,
      duration_ms: 0,
      outputs: {}
    }
    this.result.stages.push(stageResult)
    return stageResult
  }

  /** Runs one stage in an exec of its own (or skips it), and reports it. */
  private async runOne(stage: StageSpec, index: number) {
    const stageResult = this.newResult(stage)
    if (this.signal.aborted) {
      stageResult.status = 'cancelled'
      return
    }
    const started = Date.now()
    try {
      const scope = this.scope()
      const failed = this.result.status === 'failure'
      const outcome = { success: !failed, failure: failed, cancelled: false }
      if (!evaluateCondition(stage.if, scope, outcome)) {
        stageResult.status = 'skipped'
        return
      }
      this.ctx.reporter.stageStarted(this.instance, stage)
      await this.runStage(stage, index, scope, stageResult)
    } catch (error) {
      this.stageFailed(stage, stageResult, error)
    }
    stageResult.duration_ms = Date.now() - started
    this.ctx.reporter.stageFinished(this.instance, stage, stageResult)
  }

  /**
   * Runs a batch in one exec; each stage is reported as its end marker comes in. Returns
   * how many of the batch's stages it dealt with: after one that fails, the rest are left
   * to the caller (their default `if:` skips them).
   */
  private async runBatch(batch: PreparedStage[]): Promise<number> {
    const { ctx, instance } = this
    const marker = newBatchMarker()
    const command = batchCommand(
      marker,
      batch.map((s) => ({
        command: s.command,
        env: s.env,
        stateDir: s.stateDir,
        continueOnError: s.spec.continue_on_error
      }))
    )
    let current = this.newResult(batch[0].spec)
    let started = Date.now()
    let driverStopped = false
    ctx.reporter.stageStarted(instance, batch[0].spec)
    // Reading a stage's files is asynchronous; what comes meanwhile waits its turn.
    const inOrder = serialQueue()
    const output = batchOutput(
      marker,
      (stream, line) => inOrder(() => ctx.reporter.output(instance, stream, line)),
      (end) => {
        const stage = batch[end.stage]
        const stageResult = current
        stageResult.exit_code = end.exitCode
        stageResult.duration_ms = Date.now() - started
        inOrder(async () => {
          try {
            if (end.wroteFiles) await this.readStageFiles(stage.stateDir, stageResult)
            if (end.exitCode !== 0) await this.exitFailure(stageResult)
          } catch (error) {
            this.stageFailed(stage.spec, stageResult, error)
          }
          ctx.reporter.stageFinished(instance, stage.spec, stageResult)
        })
        driverStopped = end.exitCode !== 0 && !stage.spec.continue_on_error
        const next = batch[end.stage + 1]
        if (next && !driverStopped) {
          current = this.newResult(next.spec)
          started = Date.now()
          inOrder(() => ctx.reporter.stageStarted(instance, next.spec))
        }
      },
      ctx.secrets
    )
    let exitCode: number | undefined
    let failure: unknown
    try {
      exitCode = await ctx.backend.exec(this.containerId, command, [], (stream, chunk) => {
        output.push(stream, chunk)
        return ctx.reporter.backlog() ?? inOrder.busy()
      })
    } catch (error) {
      failure = error
    }
    output.flush()
    const ended = output.ended()
    if (ended === batch.length || driverStopped) {
      await inOrder.idle()
      return ended
    }
    // The stage that was running never ended: the container went, or the exec failed.
    const stage = batch[ended]
    try {
      this.signal.throwIfAborted()
      throw failure ?? new Error(`its process ended without an exit status (exec: ${exitCode})`)
    } catch (error) {
      this.stageFailed(stage.spec, current, error)
    }
    current.duration_ms = Date.now() - started
    inOrder(() => ctx.reporter.stageFinished(instance, stage.spec, current))
    await inOrder.idle()
    return ended + 1
  }

  /** Marks a stage failed (cancelled, when the job was stopped) and, unless it may, the job. */
  private stageFailed(stage: StageSpec, stageResult: StageResult, error: unknown) {
    if (this.signal.reason instanceof TimedOut) {
      stageResult.status = 'failure'
      stageResult.timed_out = true
      stageResult.error = this.signal.reason.message
    } else if (this.signal.aborted) {
      stageResult.status = 'cancelled'
    } else {
      stageResult.status = 'failure'
      stageResult.error = errorMessage(error)
      // The job's exit code and OOM flag are those of the stage that failed it first.
      if (!stage.continue_on_error && this.result.status !== 'failure') {
        fail(this.result, `stage '${stage.name}' failed: ${stageResult.error}`)
        this.result.exit_code = stageResult.exit_code
        this.result.oom_killed = stageResult.oom_killed
      }
    }
  }

  private async runStage(
    stage: StageSpec,
    index: number,
    scope: ExpressionScope,
    stageResult: StageResult
  ) {
    const { ctx, instance, containerId } = this
    if (stage.type === 'empty') {
      ctx.reporter.output(instance, 'stdout', render(stage.echo ?? stage.name, scope))
      return
    }
    const { command, env, stateDir } = this.prepare(stage, index, scope)
    if (this.stopped) {
      await ctx.backend.startContainer(containerId)
      this.stopped = false
    }
    // The Engine API cannot kill one exec: a stage that runs out of time takes the
    // container down with it, and the container is started again for any later stage.
    let timedOut = false
    let killing: Promise<void> = Promise.resolve()
    const timer =
      stage.timeout_ms === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            killing = ctx.backend.kill(containerId).catch(() => undefined)
          }, stage.timeout_ms)
    const lines = reportedLines(ctx, instance)
    let exitCode: number
    try {
      exitCode = await ctx.backend.exec(containerId, command, env, lines.push)
    } finally {
      clearTimeout(timer)
      lines.flush()
      await killing
    }
    this.signal.throwIfAborted()
    if (timedOut) {
      this.stopped = true
      stageResult.timed_out = true
      throw new Error(`timed out after ${formatDuration(stage.timeout_ms!)}`)
    }
    stageResult.exit_code = exitCode
    await this.readStageFiles(stateDir, stageResult)
    if (exitCode !== 0) await this.exitFailure(stageResult)
  }

  /** Throws the failure of a stage that exited non-zero, naming an OOM kill. */
  private async exitFailure(stageResult: StageResult): Promise<never> {
    stageResult.oom_killed = await this.killedForMemory()
    throw new Error(
      describeExit(stageResult.exit_code ?? -1, {
        killed: stageResult.oom_killed,
        limitBytes: this.options.memoryLimit
      })
    )
  }

  /** Reads what a stage wrote to `$CTR_OUTPUT` and `$CTR_ANNOTATIONS`. */
  private async readStageFiles(stateDir: string, stageResult: StageResult) {
    const limit = this.ctx.outputLimitBytes
    const written = await this.ctx.backend
      .readFiles(this.containerId, stateDir, limit)
      .catch((error: unknown) => {
        if (!(error instanceof FileTooLargeError)) throw error
        const variable = error.file === 'annotations' ? '$CTR_ANNOTATIONS' : '$CTR_OUTPUT'
        throw new Error(
          `${variable} holds ${describeSize(error.sizeBytes)}, more than the ${describeSize(limit)} a stage may write there (CTR_OUTPUT_LIMIT): write large values to a file in $CTR_WORKSPACE and output its path`
        )
      })
    this.readAnnotations(written.get('annotations'), stageResult)
    const output = written.get('output')
    if (output) stageResult.outputs = parseOutputFile(output)
  }

  /** Keeps what the stage wrote to `$CTR_ANNOTATIONS`, pointing mounted paths at the host. */
  private readAnnotations(text: string | undefined, stageResult: StageResult) {
    if (!text) return
    const { annotations, problems } = parseAnnotationFile(text)
    for (const problem of problems) this.ctx.reporter.warning(problem, this.instance)
    if (annotations.length === 0) return
    stageResult.annotations = annotations.map((a) =>
      a.file ? { ...a, file: hostPathOf(a.file, this.options.mounts) } : a
    )
  }

  /** Whether the kernel killed a process of the container for memory since the last look. */
  private async killedForMemory(): Promise<boolean> {
    const count = await this.ctx.backend.memoryKills(this.containerId)
    if (count === undefined || count <= this.memoryKills) return false
    this.memoryKills = count
    return true
  }
}

/** A stage of a batch, with what it runs. */
interface PreparedStage {
  index: number
  spec: StageSpec
  command: string[]
  env: string[]
  stateDir: string
}

/**
 * Runs callbacks in the order they are given: at once while nothing asynchronous is
 * pending (lines of output, the common case, cost no promise), after it otherwise.
 */
function serialQueue() {
  let pending: Promise<void> | undefined
  const run = (fn: () => void | Promise<void>) => {
    if (!pending) {
      const done = fn()
      if (!done) return
      pending = done
    } else {
      pending = pending.then(fn)
    }
    const tail: Promise<void> = pending.then(() => {
      if (pending === tail) pending = undefined
    })
    pending = tail
  }
  run.idle = async () => {
    while (pending) await pending
  }
  /** While callbacks wait, the promise of the last one: a producer can wait for it. */
  run.busy = () => pending
  return run
}

/** Hands a process's output to the reporter as lines, and waits while the reporter is behind. */
function reportedLines(ctx: JobRunContext, instance: PlannedInstance) {
  const lines = lineSplitter(
    (stream, line) => ctx.reporter.output(instance, stream, line),
    ctx.secrets
  )
  const push: OutputHandler = (stream, chunk) => {
    lines.push(stream, chunk)
    return ctx.reporter.backlog()
  }
  return { push, flush: lines.flush }
}

/** `stages.ID.outputs` and `.result` as expressions see them, from the stages so far. */
function stagesContext(stages: StageResult[]) {
  return Object.fromEntries(stages.map((s) => [s.id, { result: s.status, outputs: s.outputs }]))
}

function fail(result: JobResult, message: string) {
  result.status = 'failure'
  result.error ??= message
}
