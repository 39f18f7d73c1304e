import { planContainer } from '../plan/container-plan.js'
import { CTR_ROOT, jobStateDir, WORKSPACE_DIR } from '../plan/container-paths.js'
import { stageCommand } from '../plan/stage-command.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import { expressionScope, type ExpressionScope } from '../spec/expression.js'
import type { Pipeline, StageSpec } from '../spec/pipeline-types.js'
import { evaluateCondition, render } from '../spec/template.js'
import { messageOf, type DockerClient } from './docker-client.js'
import { lineSplitter } from './line-splitter.js'
import { parseOutputFile } from './output-file.js'
import type { RunReporter } from './run-reporter.js'
import type { JobResult, StageResult } from './run-result.js'

/** What a job needs from the run it belongs to. */
export interface JobRunContext {
  client: DockerClient
  reporter: RunReporter
  pipeline: Pipeline
  runId: string
  workflowVolume: string
  /** What expressions read: `params`, `run_id`, `needs`, `matrix`, `job` (not `stages`). */
  values: Record<string, unknown>
  /** The environment the run was started in, for `${VAR}`. */
  env: Record<string, string | undefined>
  keep: boolean
  signal: AbortSignal
}

/** Exit codes whose meaning a user would otherwise have to look up. */
const EXIT_HINTS: Record<number, string> = {
  125: 'the container runtime failed to run the command',
  126: 'the command was found but could not be executed (permissions?)',
  127: 'command not found in the image',
  137: 'killed (SIGKILL): out of memory, or stopped from outside',
  139: 'segmentation fault (SIGSEGV)'
}

/** Explains an exit code in a few words, when it means more than "the command failed". */
export function describeExit(code: number): string {
  const hint = EXIT_HINTS[code]
  return hint ? `exit code ${code}: ${hint}` : `exit code ${code}`
}

/**
 * Runs one job: creates its container from `runs-on.with`, runs its stages in it one after
 * another (or the image's own command), collects outputs, and removes the container.
 * Never throws: every failure becomes a failed JobResult with a message.
 */
export async function runJob(instance: PlannedInstance, ctx: JobRunContext): Promise<JobResult> {
  const { job } = instance
  const started = Date.now()
  const result: JobResult = {
    id: instance.id,
    job: job.id,
    matrix: instance.matrix,
    status: 'success',
    exit_code: null,
    oom_killed: false,
    started_at: new Date(started).toISOString(),
    duration_ms: 0,
    outputs: {},
    stages: []
  }
  let containerId: string | undefined
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
      runId: ctx.runId,
      pipelineDir: ctx.pipeline.dir,
      workflowVolume: ctx.workflowVolume,
      renderValue
    })
    ctx.reporter.jobStarted(instance, planned.body.Image)
    containerId = await ctx.client.createContainer(planned.name, planned.body)
    if (ctx.signal.aborted) throw new Error('cancelled')
    if (job.stages) {
      await ctx.client.makeDirectories(containerId, CTR_ROOT, [
        WORKSPACE_DIR,
        jobStateDir(instance.slug)
      ])
      await ctx.client.startContainer(containerId)
      await runStages(instance, job.stages, containerId, ctx, result, valueRenderer)
      if (result.status === 'success') result.exit_code = 0
    } else {
      const lines = lineSplitter((stream, line) => ctx.reporter.output(instance, stream, line))
      const exit = await ctx.client.runContainer(containerId, lines.push)
      lines.flush()
      result.exit_code = exit.exitCode
      result.oom_killed = exit.oomKilled
      if (exit.exitCode !== 0) fail(result, describeExit(exit.exitCode))
    }
    if (result.status === 'success') {
      const withStages = expressionScope({ ...ctx.values, stages: stagesContext(result.stages) })
      for (const [key, template] of Object.entries(job.outputs)) {
        result.outputs[key] = render(template, withStages)
      }
    }
  } catch (error) {
    fail(result, ctx.signal.aborted ? 'cancelled' : messageOf(error))
  } finally {
    if (ctx.signal.aborted) result.status = 'cancelled'
    if (containerId && !ctx.keep) {
      await ctx.client.removeContainer(containerId).catch(() => undefined)
    }
  }
  result.duration_ms = Date.now() - started
  ctx.reporter.jobFinished(instance, result)
  return result
}

async function runStages(
  instance: PlannedInstance,
  stages: StageSpec[],
  containerId: string,
  ctx: JobRunContext,
  result: JobResult,
  valueRenderer: (scope: ExpressionScope) => (text: string) => string
) {
  for (const [index, stage] of stages.entries()) {
    const stageResult: StageResult = {
      id: stage.id,
      name: stage.name,
      type: stage.type,
      status: 'success',
      exit_code: null,
      duration_ms: 0,
      outputs: {}
    }
    result.stages.push(stageResult)
    if (ctx.signal.aborted) {
      stageResult.status = 'cancelled'
      continue
    }
    const started = Date.now()
    try {
      const scope = expressionScope({ ...ctx.values, stages: stagesContext(result.stages) })
      const failed = result.status === 'failure'
      if (
        !evaluateCondition(stage.if, scope, { success: !failed, failure: failed, cancelled: false })
      ) {
        stageResult.status = 'skipped'
        continue
      }
      ctx.reporter.stageStarted(instance, stage)
      // Scripts are handed to the shell as written, so `${VAR}` there is the shell's own.
      const script =
        stage.type === 'cmd'
          ? (stage.args ?? []).map((a) => render(a, scope))
          : render(stage.run ?? '', scope)
      if (stage.type === 'empty') {
        ctx.reporter.output(instance, 'stdout', render(stage.echo ?? stage.name, scope))
      } else {
        const outputFile = `${jobStateDir(instance.slug)}/stage-${index + 1}.out`
        const env = [
          `CTR_OUTPUT=${outputFile}`,
          `CTR_STAGE_ID=${stage.id}`,
          ...Object.entries(stage.env).map(([k, v]) => `${k}=${valueRenderer(scope)(v)}`)
        ]
        const lines = lineSplitter((stream, line) => ctx.reporter.output(instance, stream, line))
        const exitCode = await ctx.client.exec(
          containerId,
          stageCommand(stage, script),
          env,
          lines.push
        )
        lines.flush()
        stageResult.exit_code = exitCode
        const written = await ctx.client.readFile(containerId, outputFile)
        if (written) stageResult.outputs = parseOutputFile(written)
        if (exitCode !== 0) throw new Error(describeExit(exitCode))
      }
    } catch (error) {
      if (ctx.signal.aborted) {
        stageResult.status = 'cancelled'
      } else {
        stageResult.status = 'failure'
        stageResult.error = messageOf(error)
        if (!stage.continue_on_error) {
          fail(result, `stage '${stage.name}' failed: ${stageResult.error}`)
          result.exit_code = stageResult.exit_code
        }
      }
    }
    stageResult.duration_ms = Date.now() - started
    ctx.reporter.stageFinished(instance, stage, stageResult)
  }
}

/** `stages.ID.outputs` and `.result` as expressions see them, from the stages so far. */
function stagesContext(stages: StageResult[]) {
  return Object.fromEntries(stages.map((s) => [s.id, { result: s.status, outputs: s.outputs }]))
}

function fail(result: JobResult, message: string) {
  result.status = 'failure'
  result.error ??= message
}
