import { workflowVolumeName } from '../plan/container-paths.js'
import { orderJobs } from '../spec/job-order.js'
import type { Pipeline } from '../spec/pipeline-types.js'
import type { DockerClient } from './docker-client.js'
import { runJob } from './job-runner.js'
import type { RunReporter } from './run-reporter.js'
import type { JobResult, RunResult } from './run-result.js'

export interface RunOptions {
  pipeline: Pipeline
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
 * Runs a pipeline's jobs one after another (declaration order, each after the jobs it
 * needs) on the engine, and removes everything the run created, whatever happens.
 * A job whose needs did not all succeed is skipped.
 */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { pipeline, runId, client, reporter } = options
  const signal = options.signal ?? new AbortController().signal
  const order = orderJobs(pipeline.jobs).filter(
    (job) => !options.only?.length || options.only.includes(job.id)
  )
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
    const byId = new Map<string, JobResult>()
    for (const job of order) {
      // A need left out with --job has no result: the job runs without its outputs.
      const failedNeed = job.needs.find((n) => byId.has(n) && byId.get(n)!.status !== 'success')
      let jobResult: JobResult
      if (signal.aborted) {
        jobResult = notRun(job.id, 'cancelled')
        reporter.jobFinished(job, jobResult)
      } else if (failedNeed) {
        jobResult = notRun(job.id, 'skipped')
        jobResult.error = `skipped: needed job '${failedNeed}' did not succeed`
        reporter.jobFinished(job, jobResult)
      } else {
        const needs = Object.fromEntries(
          job.needs.map((n) => [
            n,
            { result: byId.get(n)?.status ?? 'skipped', outputs: byId.get(n)?.outputs ?? {} }
          ])
        )
        jobResult = await runJob(job, {
          client,
          reporter,
          pipeline,
          runId,
          workflowVolume,
          context: { params: options.params, run_id: runId, needs },
          env: options.env,
          keep: options.keep ?? false,
          signal
        })
      }
      byId.set(job.id, jobResult)
      result.jobs.push(jobResult)
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

function notRun(id: string, status: 'skipped' | 'cancelled'): JobResult {
  return {
    id,
    matrix: {},
    status,
    exit_code: null,
    oom_killed: false,
    started_at: null,
    duration_ms: 0,
    outputs: {},
    stages: []
  }
}
