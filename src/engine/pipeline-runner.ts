import { workflowVolumeName } from '../plan/container-paths.js'
import type { PipelinePlan, PlannedInstance } from '../plan/pipeline-plan.js'
import { expressionScope, type Outcome } from '../spec/expression.js'
import type { JobSpec } from '../spec/pipeline-types.js'
import { evaluateCondition } from '../spec/template.js'
import type { DockerClient } from './docker-client.js'
import { runJob } from './job-runner.js'
import { summarizeJob, type JobSummary } from './job-summary.js'
import type { RunReporter } from './run-reporter.js'
import type { JobResult, RunResult } from './run-result.js'

export interface RunOptions {
  plan: PipelinePlan
  /** Params already resolved against the file's declarations (`resolveParams`). */
  params: Record<string, unknown>
  runId: string
  client: DockerClient
  reporter: RunReporter
  /** The environment the run was started in, for `${VAR}`. */
  env: Record<string, string | undefined>
  /** Run only these jobs (and nothing else); all when empty. */
  only?: string[]
  /** Leave containers and volumes in place for debugging. */
  keep?: boolean
  /** Aborting kills the run's containers at once and ends the run as cancelled. */
  signal?: AbortSignal
}

/**
 * Runs a plan's job instances one after another (each job after the jobs it needs) on the
 * engine, and removes everything the run created, whatever happens. A job runs when its
 * `if:` holds (by default: every job it needs succeeded); a failed instance of a matrix
 * with `fail_fast` cancels the instances not yet run.
 */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { plan, runId, client, reporter } = options
  const { pipeline } = plan
  const signal = options.signal ?? new AbortController().signal
  const jobs = plan.jobs.filter((job) => !options.only?.length || options.only.includes(job.id))
  const started = Date.now()
  const result: RunResult = {
    run_id: runId,
    pipeline: pipeline.name,
    file: pipeline.file,
    status: 'success',
    started_at: new Date(started).toISOString(),
    duration_ms: 0,
    jobs: []
  }
  // Killing the containers ends their running execs at once; the job loop then unwinds.
  let killing: Promise<unknown> = Promise.resolve()
  const killContainers = () => {
    killing = stopRun(client, runId, options.keep ?? false).catch(() => undefined)
  }
  signal.addEventListener('abort', killContainers, { once: true })
  reporter.runStarted(pipeline, runId)
  try {
    const workflowVolume = workflowVolumeName(runId)
    await client.createVolume(workflowVolume, runId)
    const summaries = new Map<string, JobSummary>()
    const failedUpstream = new Set<string>()
    for (const job of jobs) {
      // A need left out with --job has no summary: the job runs without its outputs.
      const needs = Object.fromEntries(
        job.job.needs.flatMap((n) => (summaries.has(n) ? [[n, summaries.get(n)!]] : []))
      )
      const needResults = Object.values(needs).map((n) => n.result)
      const failure = job.job.needs.some((n) => failedUpstream.has(n))
      const outcome = {
        success: needResults.every((r) => r === 'success'),
        failure,
        cancelled: signal.aborted
      }
      const results: JobResult[] = []
      let cancelSiblings: string | undefined
      for (const instance of job.instances) {
        const values = {
          params: options.params,
          run_id: runId,
          needs,
          matrix: instance.matrix,
          job: { id: job.id, instance: instance.id }
        }
        const condition = conditionHolds(job.job.if, values, outcome)
        let jobResult: JobResult
        if (signal.aborted) {
          jobResult = notRun(instance, 'cancelled')
        } else if (cancelSiblings) {
          jobResult = notRun(instance, 'cancelled', cancelSiblings)
        } else if (typeof condition === 'string') {
          jobResult = notRun(instance, 'failure', condition)
        } else if (!condition) {
          const blocker = job.job.needs.find((n) => needs[n] && needs[n].result !== 'success')
          jobResult = notRun(
            instance,
            'skipped',
            blocker
              ? `skipped: needed job '${blocker}' did not succeed`
              : 'skipped: its if: condition is false'
          )
        } else {
          jobResult = await runJob(instance, {
            client,
            reporter,
            pipeline,
            runId,
            workflowVolume,
            values,
            env: options.env,
            keep: options.keep ?? false,
            signal
          })
          if (jobResult.status === 'failure' && job.failFast && job.instances.length > 1)
            cancelSiblings = `cancelled: instance '${instance.id}' failed (fail_fast)`
        }
        if (jobResult.started_at === null) reporter.jobFinished(instance, jobResult)
        results.push(jobResult)
        result.jobs.push(jobResult)
      }
      const summary = summarizeJob(job, results)
      summaries.set(job.id, summary)
      if (summary.result === 'failure' || failure) failedUpstream.add(job.id)
    }
  } finally {
    signal.removeEventListener('abort', killContainers)
    await killing
    if (!options.keep) await client.removeResources(runId)
  }
  result.status = signal.aborted
    ? 'cancelled'
    : result.jobs.some((j) => j.status === 'failure')
      ? 'failure'
      : 'success'
  result.duration_ms = Date.now() - started
  reporter.runFinished(result)
  return result
}

/**
 * Stops a run's containers at once: kills and removes everything labelled with the run id,
 * or, when the user asked to keep them, only kills them (not waiting on a graceful stop:
 * the GitHub runner allows 7.5 s after SIGINT).
 */
export async function stopRun(client: DockerClient, runId: string, keep: boolean): Promise<void> {
  if (keep) await client.killContainers(runId)
  else await client.removeResources(runId)
}

/**
 * Whether a job's `if:` holds for one instance; an expression that fails at run time
 * (`fromJSON` of text that is not JSON) fails the instance with the reason.
 */
function conditionHolds(
  condition: JobSpec['if'],
  values: Record<string, unknown>,
  outcome: Outcome
): boolean | string {
  try {
    return evaluateCondition(condition, expressionScope(values), outcome)
  } catch (error) {
    return `if: ${(error as Error).message}`
  }
}

function notRun(
  instance: PlannedInstance,
  status: 'skipped' | 'cancelled' | 'failure',
  error?: string
): JobResult {
  const result: JobResult = {
    id: instance.id,
    job: instance.job.id,
    matrix: instance.matrix,
    status,
    exit_code: null,
    oom_killed: false,
    started_at: null,
    duration_ms: 0,
    outputs: {},
    stages: []
  }
  if (error) result.error = error
  return result
}
