import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { EngineLostError, errorMessage } from '../backend/backend.js'
import { planContainer, type ContainerPlan } from '../plan/container-plan.js'
import { ignoredSettings } from '../plan/ignored-settings.js'
import { missingVariable, variableSyntax } from '../pipeline/dialect/dialect-rules.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import { expressionScope, type ExpressionScope } from '../pipeline/expression.js'
import { PUSHED_DIGEST_OUTPUT } from '../pipeline/implicit-outputs.js'
import { formatDuration } from '../pipeline/quantities.js'
import { valueRenderers } from '../pipeline/command-words.js'
import { readsContext, render } from '../pipeline/template.js'
import { untilAborted } from './abortable.js'
import { copyArtifacts } from './artifacts.js'
import { untrustedFolder } from './host-files.js'
import { describeExit } from './exit-description.js'
import { reportedLines, TimedOut, type JobRunContext } from './job-context.js'
import { fail, stagesContext, type JobResult } from './run-result.js'
import { startServices, type RunningServices } from './services.js'
import { StageRunner } from './stage-runner.js'
import type { WarmContainer } from './warm-containers.js'
import { letGo } from './run-reporter.js'

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
  const keep = ctx.keep || job.container.keep === true
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
    if (containerId)
      killing = ctx.backend.kill(containerId).catch(letGo(ctx.reporter, 'killing a stopped job'))
  }
  // Values handed to Docker read `${VAR}` too; scripts leave it to the shell.
  const renderOptions = {
    variables: variableSyntax(ctx.pipeline.dialect, 'container'),
    env: ctx.env,
    onMissingVar: (name: string) =>
      ctx.reporter.warning(
        `\${${name}} is not set in the environment; using '${missingVariable(ctx.pipeline.dialect)}'`,
        instance
      )
  }
  const valueRenderer = (scope: ExpressionScope) => (text: string) =>
    render(text, scope, renderOptions)
  try {
    const renderers = valueRenderers(expressionScope(ctx.values), renderOptions)
    const planned = planContainer(instance, {
      ...planContext(ctx),
      ...renderers,
      changedFiles: ctx.changedFiles
    })
    ctx.reporter.jobStarted(instance, planned.image.ref)
    for (const warning of ignoredSettings(planned)) ctx.reporter.warning(warning, instance)
    await ctx.guard(planned)
    const pushed = await untilAborted(ctx.images.prepare(planned.image), signal)
    if (pushed) result.pushed_image = pushed
    const warm = attempt === 1 ? await ctx.warmer?.take(instance) : undefined
    // A kept container of an earlier attempt still holds the name.
    const name = attempt > 1 ? `${planned.name}-attempt${attempt}` : planned.name
    const container =
      warm ?? (await readyContainer(instance, planned, name, ctx, (id) => (containerId = id)))
    containerId = container.id
    signal.throwIfAborted()
    signal.addEventListener('abort', kill, { once: true })
    if (Object.keys(job.services).length > 0) {
      services = await startServices(instance, containerId, {
        ...ctx,
        ...planContext(ctx),
        ...renderers,
        signal
      })
    }
    if (job.stages) {
      if (!container.started) await ctx.backend.startContainer(containerId)
      const stages = new StageRunner(instance, containerId, ctx, signal, result, {
        valueRenderer,
        memoryLimit: planned.resources.memoryBytes,
        mounts: planned.mounts,
        image: planned.image.ref
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
    const serviceTrouble = await services?.check()
    if (serviceTrouble && result.status === 'success') fail(result, serviceTrouble)
    else if (serviceTrouble) ctx.reporter.warning(serviceTrouble, instance)
    if (result.status === 'success') {
      const withStages = expressionScope({ ...ctx.values, stages: stagesContext(result.stages) })
      // The pushed digest is an output unless the job names one so itself.
      if (result.pushed_image && !Object.hasOwn(job.outputs, PUSHED_DIGEST_OUTPUT))
        result.outputs[PUSHED_DIGEST_OUTPUT] = result.pushed_image.slice(
          result.pushed_image.lastIndexOf('@') + 1
        )
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
      if (keep) {
        // Kept for debugging, as it is (the run, or this job's remove: false).
      } else if (services || !ctx.warmer) {
        await ctx.backend
          .removeContainer(containerId)
          .catch(letGo(ctx.reporter, `removing ${instance.id}'s container`))
      } else {
        // Nothing waits on its removal but the end of the run.
        ctx.warmer.removeLater(containerId)
      }
    }
    // After the job's container: a network cannot go while a container is on it.
    if (services && !keep)
      await services.stop().catch(letGo(ctx.reporter, `stopping ${instance.id}'s services`))
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
  // The job renders it again when it starts, and warns then of what is missing.
  const renderers = valueRenderers(scope, {
    variables: variableSyntax(ctx.pipeline.dialect, 'container'),
    env: ctx.env,
    onMissingVar: () => {}
  })
  const unlessNeeds = (text: string) => {
    if (readsContext(text, 'needs')) readsNeeds = true
    return readsNeeds
  }
  const planned = planContainer(instance, {
    ...planContext(ctx),
    changedFiles: ctx.changedFiles,
    renderValue: (text) => (unlessNeeds(text) ? text : renderers.renderValue(text)),
    renderWords: (words) => (words.some(unlessNeeds) ? [...words] : renderers.renderWords(words))
  })
  if (readsNeeds) return undefined
  // Untrusted: a container that starts only at its turn (a job with services) would have
  // its binds resolved by the engine then, after the guard looked at them.
  const mountsLater = Object.keys(instance.job.services).length > 0
  if (ctx.untrustedWorkspace && mountsLater && planned.mounts.some((m) => m.type === 'bind'))
    return undefined
  await ctx.guard(planned)
  await ctx.images.prepare(planned.image)
  let created: string | undefined
  try {
    return await readyContainer(instance, planned, planned.name, ctx, (id) => (created = id))
  } catch (error) {
    // The job tries again when its turn comes, and reports what fails then.
    if (created)
      await ctx.backend
        .removeContainer(created)
        .catch(letGo(ctx.reporter, `removing a container warmed for ${instance.id}`))
    throw error
  }
}

/** What planning a container takes from the run. */
function planContext(ctx: Omit<JobRunContext, 'signal'>) {
  return {
    runId: ctx.runId,
    pipelineDir: ctx.pipeline.dir,
    namedVolumes: ctx.namedVolumes,
    runNetwork: ctx.runNetwork,
    workspaceDir: ctx.workspaceDir
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
    if (ctx.untrustedWorkspace) await untrustedFolder(dest, ctx.untrustedWorkspace)
    const copied = await copyArtifacts(ctx.backend, containerId, instance.job.artifacts, dest)
    for (const pattern of copied.missing) {
      ctx.reporter.warning(`artifact '${pattern}' matched no files`, instance)
    }
    if (copied.files > 0) result.artifacts = { dir: dest, files: copied.files }
  } catch (error) {
    fail(result, `copying artifacts to ${dest} failed: ${errorMessage(error)}`)
  }
}
