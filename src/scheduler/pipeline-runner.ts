import { availableParallelism } from 'node:os'
import { DEFAULT_OUTPUT_LIMIT_BYTES } from './output-file.js'
import path from 'node:path'
import pLimit, { type LimitFunction } from 'p-limit'
import {
  CTR_ROOT,
  instanceDirs,
  JOBS_DIR,
  namedVolumeNames,
  runNetworkName,
  STATE_DIR,
  workflowVolumeName,
  WORKSPACE_DIR
} from '../plan/container-paths.js'
import { matchChangedFiles } from '../plan/changed-files.js'
import { runLabels } from '../plan/labels.js'
import type { PipelinePlan, PlannedInstance, PlannedJob } from '../plan/pipeline-plan.js'
import { expressionScope, type Outcome } from '../spec/expression.js'
import type { JobSpec } from '../spec/pipeline-types.js'
import { evaluateCondition } from '../spec/template.js'
import { secretValues } from '../spec/secret-values.js'
import { EngineLostError, errorMessage, type Backend, type RunSetup } from '../backend/backend.js'
import { ImageStore } from './image-store.js'
import { untilAborted } from './abortable.js'
import { runJob, warmContainer, type JobRunContext } from './job-runner.js'
import { ContainerWarmer } from './warm-containers.js'
import { summarizeJob, type JobSummary } from './job-summary.js'
import { preflight } from './preflight.js'
import { untrustedGuard } from './untrusted-guard.js'
import type { RunReporter } from './run-reporter.js'
import type { JobResult, RunResult } from './run-result.js'

export interface RunOptions {
  plan: PipelinePlan
  /** Params already resolved against the file's declarations (`resolveParams`). */
  params: Record<string, unknown>
  runId: string
  backend: Backend
  reporter: RunReporter
  /** The environment the run was started in, for `${VAR}`. */
  env: Record<string, string | undefined>
  /** Run only these jobs (and nothing else); all when empty. */
  only?: string[]
  /** At most this many job instances at once in the whole run (default: the CPU count). */
  maxParallel?: number
  /** Where declared artifacts are copied, a folder per job instance (default `ctr-artifacts`). */
  artifactsDir?: string
  /** Leave containers and volumes in place for debugging. */
  keep?: boolean
  /** How large a stage's `$CTR_OUTPUT` may grow (default DEFAULT_OUTPUT_LIMIT_BYTES). */
  outputLimitBytes?: number
  /**
   * Untrusted mode (pull requests from forks): every container, as planned, is held to
   * the allow-list of `enforceUntrusted`, binds from inside this folder (the checkout) only.
   */
  untrusted?: { workspace: string }
  /** Aborting kills the run's containers at once and ends the run as cancelled. */
  signal?: AbortSignal
  /**
   * The files the pull request changes (repository paths): a job with `changed_files`
   * runs only when one matches. Undefined outside a pull request: every job runs.
   */
  changedFiles?: readonly string[]
}

/** How a job ended, as the jobs that need it see it. */
interface JobOutcome {
  summary: JobSummary
  results: JobResult[]
  /** It failed, or a job upstream of it did: `failure()` is true downstream. */
  failed: boolean
}

/**
 * How often a run asks the engine whether it is still there: a stage that prints nothing
 * for an hour is fine, an engine that stopped answering meanwhile is not.
 */
const WATCHDOG_MS = 5000

/** The folder `--artifacts-dir` defaults to, relative to where the run starts. */
export const DEFAULT_ARTIFACTS_DIR = 'ctr-artifacts'

/**
 * Runs a plan on the engine. Each job starts as soon as every job it needs has finished
 * and its `if:` holds (by default: they all succeeded); job instances run side by side up
 * to the job's `max_parallel` and the run's `maxParallel`. A failed instance of a matrix
 * with `fail_fast` cancels its siblings, running or not. Everything the run created is
 * removed at the end, whatever happens, unless `keep` is set.
 */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { plan, runId, backend, reporter } = options
  const { pipeline } = plan
  // A lost engine ends the run as an interrupt does; nothing is asked of it any more.
  const lost = new AbortController()
  const stopListening = backend.onLost((error) => lost.abort(error))
  const signal = AbortSignal.any([options.signal ?? new AbortController().signal, lost.signal])
  // A ping that fails loses the engine through the listener above.
  const watchdog = setInterval(() => backend.ping().catch(() => undefined), WATCHDOG_MS)
  const jobs = plan.jobs.filter((job) => !options.only?.length || options.only.includes(job.id))
  const changed = changedFilesOf(jobs, options.changedFiles)
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
  // Killing the containers ends their running execs at once; the jobs then unwind. The
  // volumes and the network stay until the sweep below: a container created meanwhile (a
  // request already on its way) would make the engine create a missing volume again,
  // unlabelled, where no sweep finds it.
  let killing: Promise<unknown> = Promise.resolve()
  const killContainers = () => {
    killing = backend.killRun(runId).catch(() => undefined)
  }
  signal.addEventListener('abort', killContainers, { once: true })
  reporter.runStarted(pipeline, runId)
  let warmer: ContainerWarmer | undefined
  const images = new ImageStore(backend, reporter, options.env, signal)
  try {
    const workflowVolume = workflowVolumeName(runId)
    const namedVolumes = namedVolumeNames(pipeline.volumes, runId)
    const runNetwork = runNetworkName(runId)
    const shared = {
      runId,
      workflowVolume,
      namedVolumes,
      runNetwork,
      guard: options.untrusted
        ? await untrustedGuard({
            workspace: options.untrusted.workspace,
            networks: [runNetwork],
            // Volumes the run creates: not external ones, nor those named for the engine.
            volumes: [
              workflowVolume,
              ...Object.entries(pipeline.volumes)
                .filter(([, v]) => !v.external && v.name === undefined)
                .map(([key]) => namedVolumes[key])
            ]
          })
        : undefined,
      env: options.env,
      secrets: secretValues(pipeline.variables, options.env),
      outputLimitBytes: options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES,
      images
    }
    // Interrupted while images are pulled: the jobs below all end up cancelled.
    const problems = await untilAborted(
      // Jobs that the changed files leave out never start: nothing of theirs is got ready.
      preflight(
        jobs.filter((job) => changed.get(job.id)?.length !== 0),
        { ...shared, pipelineDir: pipeline.dir, params: options.params }
      ),
      signal
    ).catch((error: unknown) => {
      if (signal.aborted) return new Map<string, string>()
      throw error
    })
    if (problems.size > 0) {
      result.jobs = notStarted(jobs, problems, reporter)
    } else {
      await backend.setupRun(runSetup(plan, runId, shared))
      const context: Omit<JobRunContext, 'values' | 'signal'> = {
        ...shared,
        prepareVolume: volumePreparer(backend, jobs),
        backend,
        reporter,
        pipeline,
        artifactsDir: path.resolve(options.artifactsDir ?? DEFAULT_ARTIFACTS_DIR),
        keep: options.keep ?? false
      }
      const maxParallel = options.maxParallel ?? defaultMaxParallel(jobs)
      warmer = new ContainerWarmer(
        backend,
        // A job with its own `if:` may never run, and one the changed files leave out won't.
        jobs
          .filter((job) => job.job.if === undefined && changed.get(job.id)?.length !== 0)
          .flatMap((job) => job.instances),
        maxParallel,
        (instance) =>
          warmContainer(instance, {
            ...context,
            values: instanceValues(instance, options),
            changedFiles: changed.get(instance.job.id)
          }),
        signal
      )
      warmer.fill()
      const slots = pLimit(maxParallel)
      result.jobs = await scheduleJobs(jobs, {
        ...options,
        signal,
        context: { ...context, warmer },
        slots,
        changed
      })
    }
  } catch (error) {
    // The listener has already aborted the run: the result below says why.
    if (!(error instanceof EngineLostError)) throw error
  } finally {
    clearInterval(watchdog)
    stopListening()
    signal.removeEventListener('abort', killContainers)
    // Containers being made ready are removed first: the sweep by label cannot see one
    // that is created after it listed the run's containers.
    await warmer?.settled()
    // A build stopped by the cancel above may still tag its image as it ends.
    await images.settled()
    await killing
    if (!options.keep && !lost.signal.aborted) await removeRun(backend, runId, reporter)
  }
  if (lost.signal.aborted) {
    const left = backend.liveContainers()
    // Interrupted first, the engine lost while unwinding: still an interrupted run.
    result.status = options.signal?.aborted ? 'cancelled' : 'failure'
    result.engine_lost = true
    result.error =
      `${(lost.signal.reason as Error).message}; ${left} container${left === 1 ? '' : 's'} ` +
      `and the run's volumes and network may be left: run \`ctr-pipeline cleanup --run-id ${runId}\``
  } else {
    result.status = signal.aborted
      ? 'cancelled'
      : result.jobs.some((j) => j.status === 'failure')
        ? 'failure'
        : 'success'
  }
  result.duration_ms = Date.now() - started
  reporter.runFinished(result)
  return result
}

/**
 * The run's volumes and network, all labelled with the run id: the workflow volume, and
 * the named volumes of the file (an `external` one must exist already and is left as it is).
 */
function runSetup(
  plan: PipelinePlan,
  runId: string,
  names: { workflowVolume: string; namedVolumes: Record<string, string>; runNetwork: string }
): RunSetup {
  const labels = runLabels(runId)
  return {
    runId,
    volumes: [
      { key: 'workspace', name: names.workflowVolume, labels, external: false },
      ...Object.entries(plan.pipeline.volumes).map(([key, spec]) => ({
        key,
        name: names.namedVolumes[key],
        labels: { ...spec.labels, ...labels },
        external: spec.external,
        ...(spec.driver ? { driver: spec.driver } : {}),
        ...(spec.driver_opts ? { driverOptions: spec.driver_opts } : {})
      }))
    ],
    network: { name: names.runNetwork, labels }
  }
}

/** At most this many folders are made in the run's first upload (about 512 B of tar each). */
const UPFRONT_DIRS_LIMIT = 2048

/**
 * Makes the workflow volume's folders through the first container that asks, in one
 * upload: the run's shared folders and those of every instance, as long as they number at
 * most UPFRONT_DIRS_LIMIT (the engine's archive upload fails when two containers create
 * one folder at the same moment, and each upload costs it tens of milliseconds). Instances
 * beyond that make their own folders through their own container.
 */
function volumePreparer(
  backend: Backend,
  jobs: readonly PlannedJob[]
): (containerId: string, instance: PlannedInstance) => Promise<void> {
  const upfront = new Set<string>()
  const dirs = [WORKSPACE_DIR, JOBS_DIR, STATE_DIR]
  for (const instance of jobs.flatMap((job) => job.instances)) {
    const own = instanceDirs(instance)
    if (dirs.length + own.length > UPFRONT_DIRS_LIMIT) break
    dirs.push(...own)
    upfront.add(instance.id)
  }
  let volumeReady: Promise<void> | undefined
  return async (containerId, instance) => {
    volumeReady ??= backend.makeDirectories(containerId, CTR_ROOT, dirs).catch((error: unknown) => {
      // The next instance tries again (this one's container may have been killed).
      volumeReady = undefined
      throw error
    })
    await volumeReady
    if (!upfront.has(instance.id)) {
      await backend.makeDirectories(containerId, CTR_ROOT, instanceDirs(instance))
    }
  }
}

/**
 * Starts each job as soon as the jobs it needs have finished; resolves to every
 * instance's result, in plan order.
 */
async function scheduleJobs(jobs: readonly PlannedJob[], run: Scheduling): Promise<JobResult[]> {
  const outcomes = new Map<string, Promise<JobOutcome>>()
  for (const job of jobs) {
    // Jobs come in plan order, so the promises of the jobs it needs exist already.
    const needs = job.job.needs.filter((n) => outcomes.has(n))
    const upstream = Promise.all(needs.map(async (n) => [n, await outcomes.get(n)!] as const))
    outcomes.set(
      job.id,
      upstream.then((done) => runPlannedJob(job, new Map(done), run))
    )
  }
  const settled = await Promise.all(outcomes.values())
  return settled.flatMap((o) => o.results)
}

interface Scheduling extends RunOptions {
  signal: AbortSignal
  context: Omit<JobRunContext, 'values' | 'signal'>
  /** The run's slots: at most `maxParallel` instances hold one at a time. */
  slots: LimitFunction
  /** Per job with `changed_files`, the changed files it matched (when they are known). */
  changed: Map<string, string[]>
}

/** For each job with `changed_files`, the changed files it selects, when those are known. */
function changedFilesOf(
  jobs: readonly PlannedJob[],
  changedFiles: readonly string[] | undefined
): Map<string, string[]> {
  const matched = new Map<string, string[]>()
  if (!changedFiles) return matched
  for (const job of jobs) {
    const globs = job.job.changed_files
    if (globs) matched.set(job.id, matchChangedFiles(globs, changedFiles))
  }
  return matched
}

/**
 * Runs every instance of one job whose needs have finished: each takes a slot of the job
 * (`max_parallel`) and then one of the run, so a matrix never holds run slots it cannot use.
 */
async function runPlannedJob(
  job: PlannedJob,
  needed: Map<string, JobOutcome>,
  run: Scheduling
): Promise<JobOutcome> {
  const needs = Object.fromEntries([...needed].map(([id, o]) => [id, o.summary]))
  const failedUpstream = [...needed.values()].some((o) => o.failed)
  const outcome: Outcome = {
    success: Object.values(needs).every((n) => n.result === 'success'),
    failure: failedUpstream,
    cancelled: run.signal.aborted
  }
  // fail_fast: the first failure cancels the siblings, those running and those waiting.
  const siblings = new AbortController()
  const signal = AbortSignal.any([run.signal, siblings.signal])
  const jobSlots = job.maxParallel ? pLimit(job.maxParallel) : undefined
  const runInstance = async (instance: PlannedInstance): Promise<JobResult> => {
    const values = { ...instanceValues(instance, run), needs }
    const condition = conditionHolds(job.job.if, values, outcome)
    const changedFiles = run.changed.get(job.id)
    let result: JobResult
    if (signal.aborted) {
      result = notRun(instance, 'cancelled', reasonOf(signal))
    } else if (changedFiles?.length === 0) {
      result = notRun(instance, 'skipped', 'skipped: no changed file matches its changed_files')
    } else if (typeof condition === 'string') {
      result = notRun(instance, 'failure', condition)
    } else if (!condition) {
      const blocker = job.job.needs.find((n) => needs[n] && needs[n].result !== 'success')
      result = notRun(
        instance,
        'skipped',
        blocker
          ? `skipped: needed job '${blocker}' did not succeed`
          : 'skipped: its if: condition is false'
      )
    } else {
      result = await runJob(instance, { ...run.context, values, signal, changedFiles })
      if (result.status === 'failure' && job.failFast && job.instances.length > 1) {
        siblings.abort(`cancelled: instance '${instance.id}' failed (fail_fast)`)
      }
      return result
    }
    run.context.warmer?.discard(instance)
    run.reporter.jobFinished(instance, result)
    return result
  }
  const results = await Promise.all(
    job.instances.map((instance) => {
      const inRunSlot = () => run.slots(() => runInstance(instance))
      return jobSlots ? jobSlots(inRunSlot) : inRunSlot()
    })
  )
  const summary = summarizeJob(job, results)
  return { summary, results, failed: summary.result === 'failure' || failedUpstream }
}

/**
 * How many instances run at once when the run does not say: the CPU count, or a job's own
 * `max_parallel` where that is higher (it is the pipeline author's word on that job, and
 * its work may well wait on more than the CPU: `sleep`, the network, a service).
 */
export function defaultMaxParallel(jobs: readonly PlannedJob[]): number {
  return Math.max(availableParallelism(), ...jobs.map((job) => job.maxParallel ?? 0))
}

/** What expressions of an instance read before its needs are known. */
function instanceValues(
  instance: PlannedInstance,
  run: Pick<RunOptions, 'params' | 'runId'>
): Record<string, unknown> {
  return {
    params: run.params,
    run_id: run.runId,
    matrix: instance.matrix,
    job: { id: instance.job.id, instance: instance.id }
  }
}

/**
 * Removes what the run created. The jobs' work is done and their results stand: a
 * resource the engine will not let go of (Docker 20.10 now and then keeps a removed
 * container's endpoint on a network until it restarts, moby/moby#43286) is a warning that
 * says how to remove it later, not a failed run without its result.
 */
async function removeRun(backend: Backend, runId: string, reporter: RunReporter) {
  try {
    await backend.sweep(runId)
  } catch (error) {
    reporter.warning(
      `could not remove everything run ${runId} created: ${errorMessage(error)}; ` +
        `remove it later with: ctr-pipeline cleanup --run-id ${runId}`
    )
  }
}

/**
 * Stops a run's containers at once: kills and removes everything labelled with the run id,
 * or, when the user asked to keep them, only kills them (not waiting on a graceful stop:
 * the GitHub runner allows 7.5 s after SIGINT).
 */
export async function stopRun(backend: Backend, runId: string, keep: boolean): Promise<void> {
  if (keep) await backend.killRun(runId)
  else await backend.sweep(runId)
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

/**
 * The result of a run that could not start: the instances with a problem failed with it,
 * the others were not run. Nothing was created.
 */
function notStarted(
  jobs: readonly PlannedJob[],
  problems: Map<string, string>,
  reporter: RunReporter
): JobResult[] {
  return jobs.flatMap((job) =>
    job.instances.map((instance) => {
      const problem = problems.get(instance.id)
      const result = problem
        ? notRun(instance, 'failure', problem)
        : notRun(instance, 'skipped', 'not run: the run could not start (see the failed jobs)')
      reporter.jobFinished(instance, result)
      return result
    })
  )
}

function reasonOf(signal: AbortSignal): string | undefined {
  return typeof signal.reason === 'string' ? signal.reason : undefined
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
    timed_out: false,
    attempts: 0,
    started_at: null,
    duration_ms: 0,
    outputs: {},
    stages: []
  }
  if (error) result.error = error
  return result
}
