import { hostPathOf, type MountPlan } from '../plan/container-plan.js'
import { CTR_ROOT, stageStateDir } from '../plan/container-paths.js'
import { missingVariable, variableSyntax } from '../pipeline/dialect/dialect-rules.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import { batchAt, newBatchMarker, type StageBatch } from '../plan/stage-batches.js'
import { stageCommand } from '../plan/stage-command.js'
import { expressionScope, type ExpressionScope } from '../pipeline/expression.js'
import type { StageSpec } from '../pipeline/pipeline-types.js'
import { describeSize, formatDuration } from '../pipeline/quantities.js'
import { evaluateCondition, evaluateSegment, loneExpression, render } from '../pipeline/template.js'
import { runNested } from './nested-stage.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { RETRY_STAGE_SH } from '../plan/scripts/assets.js'
import { retryDelayMs, RETRY_WRAPPER_NAME } from '../plan/stage-retry.js'
import { errorMessage, FileTooLargeError } from '../backend/backend.js'
import { parseAnnotationFile } from './annotation-file.js'
import { batchOutput } from './batch-output.js'
import { describeExit } from './exit-description.js'
import { reportedLines, TimedOut, type JobRunContext } from './job-context.js'
import { parseOutputFile } from './output-file.js'
import { prepareProcess } from './process-stage.js'
import { fail, stagesContext, type JobResult, type StageResult } from './run-result.js'
import { serialQueue } from './serial-queue.js'
import { letGo } from './run-reporter.js'

/**
 * Runs a job's stages in its container, one after another. Consecutive stages whose
 * commands are known up front run as a batch, in one exec (Backend.runBatch): an exec
 * costs the engine tens of milliseconds, a subshell next to nothing. The others (an `if:`,
 * a timeout, a script that reads `stages.*`) run in an exec of their own.
 */
export class StageRunner {
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
      /** The job's image, whose labels name the processes of `process` stages. */
      image: string
    }
  ) {}

  async run(stages: StageSpec[]) {
    const top = this.top()
    for (let index = 0; index < stages.length;) {
      const batch = this.canBatch() ? this.batchFrom(stages, index) : []
      if (batch.length > 0) {
        index += await this.runBatch(batch)
        continue
      }
      await this.runOne(stages[index], index, top)
      index++
    }
  }

  /** The job's own list of stages: a failed stage fails the job. */
  private top(): Frame {
    return {
      results: this.result.stages,
      values: this.ctx.values,
      outer: {},
      stateDir: (index) => stageStateDir(this.instance.slug, index),
      failed: () => this.result.status === 'failure',
      fail: (stage, stageResult) => {
        // The job's exit code and OOM flag are those of the stage that failed it first.
        fail(this.result, `stage '${stage.name}' failed: ${stageResult.error}`)
        this.result.exit_code = stageResult.exit_code
        this.result.oom_killed = stageResult.oom_killed
      },
      label: '',
      signal: this.signal
    }
  }

  /** A batch runs its stages on the assumption that all before them succeeded. */
  private canBatch(): boolean {
    return !this.signal.aborted && this.result.status !== 'failure' && !this.stopped
  }

  /** The stages that run in one batch from `from` on, each with what it runs. */
  private batchFrom(stages: StageSpec[], from: number): Array<PreparedStage> {
    const top = this.top()
    const scope = this.scope(top)
    const prepared = new Map<number, PreparedStage>()
    const prepare = (i: number) => {
      let stage = prepared.get(i)
      if (!stage) {
        stage = { index: i, spec: stages[i], ...this.prepare(stages[i], top.stateDir(i), scope) }
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

  /** What expressions read at this point of a list: its values and the stages so far. */
  private scope(frame: Frame): ExpressionScope {
    return expressionScope({ ...frame.values, stages: stagesHere(frame) })
  }

  /**
   * Renders a script: handed to the shell as written in the page's form, so `${VAR}` there
   * is the shell's own; a ddeutil workflow's reads the run's environment, as ddeutil does.
   */
  private scriptRenderer(scope: ExpressionScope): (text: string) => string {
    const { pipeline, env, reporter } = this.ctx
    const variables = variableSyntax(pipeline.dialect, 'script')
    return (text) =>
      render(text, scope, {
        variables,
        env,
        onMissingVar: (name) =>
          reporter.warning(
            `\${${name}} is not set in the environment; using '${missingVariable(pipeline.dialect)}'`,
            this.instance
          )
      })
  }

  /**
   * What the `py` stage driver reads besides the script: its rendered `vars`, and in a
   * ddeutil workflow that the stage runs by ddeutil's rules (scripts/py-stage.py).
   */
  private pythonEnv(stage: StageSpec, scope: ExpressionScope): string[] {
    if (stage.type !== 'py') return []
    const env: string[] = []
    if (this.ctx.pipeline.dialect === 'ddeutil') env.push('CTR_PY_DDEUTIL=1')
    if (stage.vars) env.push(`CTR_PY_VARS=${JSON.stringify(this.valueOf(stage.vars, scope))}`)
    return env
  }

  /**
   * A value of the file, rendered as a script is: a string that is one expression keeps
   * its type (`vars: {n: ${{ params.n }}}` is a number), other strings are rendered text,
   * lists and maps are rendered value by value.
   */
  private valueOf(raw: unknown, scope: ExpressionScope): unknown {
    if (typeof raw === 'string') {
      const lone = loneExpression(raw)
      return lone ? evaluateSegment(lone, scope) : this.scriptRenderer(scope)(raw)
    }
    if (Array.isArray(raw)) return raw.map((v) => this.valueOf(v, scope))
    if (raw !== null && typeof raw === 'object')
      return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, this.valueOf(v, scope)]))
    return raw
  }

  /** A stage's command line and environment, rendered in `scope`. */
  private prepare(stage: StageSpec, stateDir: string, scope: ExpressionScope) {
    const renderScript = this.scriptRenderer(scope)
    const script =
      stage.type === 'cmd' ? (stage.args ?? []).map(renderScript) : renderScript(stage.run ?? '')
    const renderValue = this.options.valueRenderer(scope)
    const env = [
      `CTR_OUTPUT=${stateDir}/output`,
      `CTR_ANNOTATIONS=${stateDir}/annotations`,
      `CTR_STAGE_ID=${stage.id}`,
      ...Object.entries(stage.env).map(([k, v]) => `${k}=${renderValue(v)}`),
      ...this.pythonEnv(stage, scope)
    ]
    return { command: stageCommand(stage, script), env, stateDir }
  }

  /** A stage's result as it starts, listed in `into` unless that is null. */
  private newResult(
    stage: StageSpec,
    into: StageResult[] | null = this.result.stages
  ): StageResult {
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
    into?.push(stageResult)
    return stageResult
  }

  /** Runs one stage of a list in an exec of its own (or skips it), and reports it. */
  private async runOne(stage: StageSpec, index: number, frame: Frame) {
    const stageResult = this.newResult(stage, frame.results)
    if (frame.signal.aborted) {
      stageResult.status = 'cancelled'
      return
    }
    // Inside a stage that holds stages, the log names the way there: `each[b.csv] > check`.
    const shown = frame.label ? { ...stage, name: `${frame.label}${stage.name}` } : stage
    const started = Date.now()
    try {
      const scope = this.scope(frame)
      const failed = frame.failed()
      const outcome = { success: !failed, failure: failed, cancelled: false }
      const python = this.ctx.pipeline.dialect === 'ddeutil'
      if (!evaluateCondition(stage.if, scope, outcome, { python, env: this.ctx.env })) {
        stageResult.status = 'skipped'
        return
      }
      stageResult.started_at = new Date(started).toISOString()
      this.ctx.reporter.stageStarted(this.instance, shown)
      await this.withRetries(stage, (attempt) => {
        // A retry's result is its own: nothing of the attempt before it.
        if (attempt > 0)
          Object.assign(stageResult, this.newResult(stage, null), {
            started_at: stageResult.started_at
          })
        if (stage.nested || stage.type === 'raise')
          return this.runHolder(stage, index, scope, stageResult, frame, shown.name)
        return this.runStage(stage, frame.stateDir(index), scope, stageResult, attempt)
      })
    } catch (error) {
      this.stageFailed(stage, stageResult, error, frame)
    }
    stageResult.duration_ms = Date.now() - started
    this.ctx.reporter.stageFinished(this.instance, shown, stageResult)
  }

  /**
   * Runs a stage that holds stages (runNested), each list in a frame of its own whose
   * stages' state folders lie in this stage's; or fails a `raise` stage with its message.
   */
  private async runHolder(
    stage: StageSpec,
    index: number,
    scope: ExpressionScope,
    stageResult: StageResult,
    frame: Frame,
    shownName: string
  ) {
    const python = this.ctx.pipeline.dialect === 'ddeutil'
    if (stage.type === 'raise') throw new Error(this.scriptRenderer(scope)(stage.raise ?? ''))
    const withValues = (extra: Record<string, unknown>) =>
      expressionScope({ ...frame.values, ...extra, stages: stagesHere(frame) })
    await runNested(stage, stageResult, {
      value: (text) => this.valueOf(text, scope),
      condition: (text, extra) =>
        evaluateCondition(
          text,
          withValues(extra),
          { success: true, failure: false, cancelled: false },
          { python, env: this.ctx.env }
        ),
      signal: frame.signal,
      runList: async (stages, run, extra, iteration, stop) => {
        let failed = false
        const dir = `${frame.stateDir(index)}/${iteration}`
        const inner: Frame = {
          results: run.stages,
          values: { ...frame.values, ...extra },
          outer: stagesHere(frame),
          stateDir: (i) => `${dir}-${i + 1}`,
          failed: () => failed,
          fail: () => void (failed = true),
          label: `${shownName}[${run.key}] > `,
          signal: stop ? AbortSignal.any([frame.signal, stop]) : frame.signal
        }
        if (!inner.signal.aborted)
          await this.ctx.backend.makeDirectories(
            this.containerId,
            CTR_ROOT,
            stages.map((_, i) => inner.stateDir(i))
          )
        for (let i = 0; i < stages.length; i++) await this.runOne(stages[i], i, inner)
        return failed
      }
    })
  }

  /**
   * Runs a batch in one exec; each stage is reported as its end marker comes in. Returns
   * how many of the batch's stages it dealt with: after one that fails, the rest are left
   * to the caller (their default `if:` skips them).
   */
  private async runBatch(batch: PreparedStage[]): Promise<number> {
    const { ctx, instance } = this
    const marker = newBatchMarker()
    const typed: StageBatch = {
      marker,
      stages: batch.map((s) => ({
        command: s.command,
        env: s.env,
        stateDir: s.stateDir,
        continueOnError: s.spec.continue_on_error
      }))
    }
    let current = this.newResult(batch[0].spec)
    let started = Date.now()
    current.started_at = new Date(started).toISOString()
    let driverStopped = false
    ctx.reporter.stageStarted(instance, batch[0].spec)
    // Reading a stage's files is asynchronous; what comes meanwhile waits its turn.
    const inOrder = serialQueue()
    const output = batchOutput(
      marker,
      (stream, lines) => inOrder(() => ctx.reporter.output(instance, stream, lines)),
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
          current.started_at = new Date(started).toISOString()
          inOrder(() => ctx.reporter.stageStarted(instance, next.spec))
        }
      },
      ctx.secrets
    )
    let exitCode: number | undefined
    let failure: unknown
    try {
      exitCode = await ctx.backend.runBatch(this.containerId, typed, (stream, chunk) => {
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
      // What failed once the stages were done (a backend handing the workspace on) fails
      // the job: what they wrote did not reach the jobs after it.
      if (failure !== undefined && !this.signal.aborted && this.result.status !== 'failure')
        fail(this.result, errorMessage(failure))
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

  /**
   * Marks a stage failed (cancelled, when the job was stopped) and, unless it may, its
   * list: the job's, or the run of a stage that holds it.
   */
  private stageFailed(
    stage: StageSpec,
    stageResult: StageResult,
    error: unknown,
    frame: Frame = this.top()
  ) {
    if (this.signal.reason instanceof TimedOut) {
      stageResult.status = 'failure'
      stageResult.timed_out = true
      stageResult.error = this.signal.reason.message
    } else if (this.signal.aborted) {
      stageResult.status = 'cancelled'
    } else {
      stageResult.status = 'failure'
      stageResult.error = errorMessage(error)
      if (!stage.continue_on_error && !frame.failed()) frame.fail(stage, stageResult)
    }
  }

  /**
   * Runs a stage, and again when it fails, up to `retry` more times (see retryDelayMs);
   * a cancelled run retries nothing.
   */
  private async withRetries(stage: StageSpec, run: (attempt: number) => Promise<void>) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run(attempt)
      } catch (error) {
        if (attempt >= stage.retry || this.signal.aborted) throw error
        this.ctx.reporter.warning(
          `stage '${stage.name}' failed (${errorMessage(error)}); retry ${attempt + 1} of ${stage.retry}`,
          this.instance
        )
        const delay = retryDelayMs(attempt + 1)
        if (delay > 0) await sleep(delay, undefined, { signal: this.signal })
      }
    }
  }

  private async runStage(
    stage: StageSpec,
    stateDir: string,
    scope: ExpressionScope,
    stageResult: StageResult,
    attempt = 0
  ) {
    const { ctx, instance, containerId } = this
    if (stage.type === 'empty') {
      ctx.reporter.output(instance, 'stdout', this.scriptRenderer(scope)(stage.echo ?? stage.name))
      if (stage.sleep_ms) await sleep(stage.sleep_ms, undefined, { signal: this.signal })
      return
    }
    const process =
      stage.type === 'process'
        ? await prepareProcess(
            stage,
            {
              backend: ctx.backend,
              containerId,
              image: this.options.image,
              limitBytes: ctx.outputLimitBytes
            },
            this.options.valueRenderer(scope)
          )
        : undefined
    const prepared = this.prepare(stage, stateDir, scope)
    const { env } = prepared
    const first = process?.command ?? prepared.command
    const command = attempt > 0 ? ['sh', '-c', RETRY_STAGE_SH, RETRY_WRAPPER_NAME, ...first] : first
    if (this.stopped) {
      await ctx.backend.startContainer(containerId)
      this.stopped = false
    }
    // Where the backend cannot kill a stage alone, the container goes down with it and is
    // started again for any later stage.
    let timedOut = false
    let killing: Promise<void> = Promise.resolve()
    const timer =
      stage.timeout_ms === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            killing = ctx.backend
              .killStage(containerId)
              .catch((error: unknown) => {
                letGo(ctx.reporter, 'killing a timed-out stage')(error)
                return 'container' as const
              })
              .then((died) => void (this.stopped = died === 'container'))
          }, stage.timeout_ms)
    const lines = reportedLines(ctx, instance)
    let exitCode = -1
    try {
      const onOutput = process ? process.onOutput(lines.push) : lines.push
      exitCode = await ctx.backend.exec(containerId, command, env, onOutput)
    } catch (error) {
      // Killed for its timeout, a stage may also fail what the backend does after it (a
      // swarm task cannot send the workspace back): the timeout is why it failed.
      if (!timedOut) throw error
    } finally {
      clearTimeout(timer)
      lines.flush()
      await killing
    }
    this.signal.throwIfAborted()
    if (timedOut) {
      stageResult.timed_out = true
      throw new Error(`timed out after ${formatDuration(stage.timeout_ms!)}`)
    }
    stageResult.exit_code = exitCode
    await this.readStageFiles(stateDir, stageResult)
    if (exitCode !== 0) await this.exitFailure(stageResult)
    if (process) stageResult.outputs = { ...stageResult.outputs, ...process.outputs() }
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

/** A list of stages being run: the job's own, or one that a stage holding stages runs. */
interface Frame {
  /** Where its stages' results go. */
  results: StageResult[]
  /** What its expressions read besides `stages`: the job's values, and `item`, `loop`… */
  values: Record<string, unknown>
  /** `stages` of the lists around it, as they were when it began. */
  outer: Record<string, unknown>
  /** Where the stage at `index` writes its files. */
  stateDir: (index: number) => string
  /** Whether one of its stages failed (and so the list). */
  failed: () => boolean
  fail: (stage: StageSpec, stageResult: StageResult) => void
  /** What the log puts before its stages' names. */
  label: string
  /** Aborted when its stages are to stop: the job's signal, or a foreach's first failure. */
  signal: AbortSignal
}

/** `stages` at this point of a list: those of the lists around it, then its own so far. */
function stagesHere(frame: Frame): Record<string, unknown> {
  return { ...frame.outer, ...stagesContext(frame.results) }
}

/** A stage of a batch, with what it runs. */
interface PreparedStage {
  index: number
  spec: StageSpec
  command: string[]
  env: string[]
  stateDir: string
}
