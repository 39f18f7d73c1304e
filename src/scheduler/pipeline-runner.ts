import path from 'node:path'
import { triggerNote } from '../pipeline/schedule.js'
import { variableSyntax } from '../pipeline/dialect/dialect-rules.js'
import pLimit from 'p-limit'
import { EngineLostError, errorMessage, type Backend } from '../backend/backend.js'
import { namedVolumeNames, runNetworkName, workflowVolumeName } from '../plan/container-paths.js'
import type { PipelinePlan, PlannedJob } from '../plan/pipeline-plan.js'
import { InputError } from '../pipeline/input-error.js'
import { secretValues } from '../pipeline/secret-values.js'
import { untilAborted } from './abortable.js'
import { ImageStore } from './image-store.js'
import type { JobRunContext } from './job-context.js'
import { warmContainer } from './job-runner.js'
import {
  changedFilesOf,
  defaultMaxParallel,
  instanceValues,
  notRun,
  notStarted,
  scheduleJobs,
  type Scheduling,
  type UpstreamJob
} from './job-scheduling.js'
import { DEFAULT_OUTPUT_LIMIT_BYTES } from './output-file.js'
import { preflight } from './preflight.js'
import { letGo, type RunReporter } from './run-reporter.js'
import { runSetup, volumePreparer } from './run-resources.js'
import type { JobResult, RunResult } from './run-result.js'
import { containerGuard, untrustedGuard } from './untrusted-guard.js'
import { ContainerWarmer } from './warm-containers.js'

export interface RunOptions {
  plan: PipelinePlan
  /** Params already resolved against the file's declarations (`resolveParams`). */
  params: Record<string, unknown>
  runId: string
  backend: Backend
  reporter: RunReporter
  /** The environment the run was started in, for `${VAR}`. */
  env: Record<string, string | undefined>
  /** Names in `env` whose values are masked whether the pipeline uses them or not. */
  secretNames?: readonly string[]
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
  /** Untrusted mode (pull requests from forks): see UntrustedRun. */
  untrusted?: UntrustedRun
  /** Aborting kills the run's containers at once and ends the run as cancelled. */
  signal?: AbortSignal
  /**
   * The files the pull request changes (repository paths): a job with `changed_files`
   * runs only when one matches. Undefined outside a pull request: every job runs.
   */
  changedFiles?: readonly string[]
  /** Run one job instance of the plan, as one job of a fan-out over runners (InstanceRun). */
  instance?: InstanceRun
}

/**
 * How an untrusted run is held (docs/security.md): every container, as planned, to the
 * allow-list of `enforceUntrusted`, binds from inside `workspace` (the checkout) only;
 * `${VAR}` sees only `allowedVariables` of the environment; images are pulled without
 * the runner's registry logins.
 */
export interface UntrustedRun {
  workspace: string
  allowedVariables: readonly string[]
}

/**
 * One job instance run on its own (`run --instance`), as a GitHub workflow fans a
 * pipeline out over runners: its needs ran elsewhere, and their result documents and the
 * workspace they left are handed in.
 */
export interface InstanceRun {
  /** The instance's slug (`test-1`; a job without a matrix: its id). */
  slug: string
  /** Results of jobs upstream of it; a needed job with none did not run (skipped). */
  upstream: JobResult[]
  /** The host folder that is the run's workspace, in and out. */
  workspaceDir: string
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
  const jobs = options.instance
    ? [instanceJob(plan, options.instance.slug)]
    : plan.jobs.filter((job) => !options.only?.length || options.only.includes(job.id))
  // A lost engine ends the run as an interrupt does; nothing is asked of it any more.
  const lost = new AbortController()
  const stopListening = backend.onLost((error) => lost.abort(error))
  const signal = AbortSignal.any([options.signal ?? new AbortController().signal, lost.signal])
  // A ping that fails loses the backend through the listener above.
  const watchdog = setInterval(
    () => backend.ping().catch(letGo(reporter, 'the watchdog ping')),
    WATCHDOG_MS
  )
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
    killing = backend.killRun(runId).catch(letGo(reporter, 'killing the run'))
  }
  signal.addEventListener('abort', killContainers, { once: true })
  reporter.runStarted(pipeline, runId, `${backend.name} at ${backend.where()}`)
  for (const p of pipeline.warnings) reporter.warning(`${p.file}:${p.line}:${p.col}: ${p.message}`)
  if (pipeline.on) reporter.info(triggerNote(pipeline.on))
  let warmer: ContainerWarmer | undefined
  const env = options.untrusted
    ? pickVariables(options.env, options.untrusted.allowedVariables)
    : options.env
  const images = new ImageStore(backend, reporter, { env, anonymous: !!options.untrusted }, signal)
  try {
    const workflowVolume = workflowVolumeName(runId)
    const namedVolumes = namedVolumeNames(pipeline.volumes, runId)
    const runNetwork = runNetworkName(runId)
    const secrets = secretValues(pipeline.variables, env, options.secretNames)
    const shared = {
      runId,
      workflowVolume,
      namedVolumes,
      runNetwork,
      guard: containerGuard(
        secrets,
        options.untrusted
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
          : undefined
      ),
      workspaceDir: options.instance?.workspaceDir,
      env,
      secrets,
      outputLimitBytes: options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES,
      images
    }
    // Interrupted while images are pulled: the jobs below all end up cancelled.
    const problems = await untilAborted(
      // Jobs that the changed files leave out never start: nothing of theirs is got ready.
      preflight(
        jobs.filter((job) => changed.get(job.id)?.length !== 0),
        {
          ...shared,
          pipelineDir: pipeline.dir,
          params: options.params,
          variables: variableSyntax(pipeline.dialect, 'container'),
          engine: backend.where(),
          cpus: await backend.cpuCount?.()
        }
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
        ...(options.untrusted ? { untrustedWorkspace: options.untrusted.workspace } : {}),
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
        signal,
        reporter
      )
      warmer.fill()
      const slots = pLimit(maxParallel)
      result.jobs = await scheduleJobs(jobs, {
        ...options,
        signal,
        context: { ...context, warmer },
        slots,
        changed,
        ...(options.instance ? { upstream: upstreamOf(plan, jobs[0], options.instance) } : {})
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
    if (!lost.signal.aborted) {
      // A job with ddeutil's remove: false keeps its container, and so what it stands on.
      const keptJobs = new Set(jobs.filter((j) => j.job.container.keep).map((j) => j.id))
      const kept = result.jobs.some((r) => keptJobs.has(r.job) && r.attempts > 0)
      if (options.keep || kept) await reportKept(backend, runId, reporter)
      else await removeRun(backend, runId, reporter)
    }
  }
  if (lost.signal.aborted) {
    const left = backend.liveContainers()
    // Interrupted first, the engine lost while unwinding: still an interrupted run.
    result.status = options.signal?.aborted ? 'cancelled' : 'failure'
    result.engine_lost = true
    result.error = `${(lost.signal.reason as Error).message}; ${mayBeLeft(left, runId)}`
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
 * Says what `--keep` left, by name, and the command that removes it: a kept run is looked
 * into with `docker exec`, and then has to go. Listing is best effort: the run stands.
 */
async function reportKept(backend: Backend, runId: string, reporter: RunReporter) {
  const kept = await backend.kept(runId).catch(letGo(reporter, 'listing what the run kept'))
  if (!kept) return
  for (const [what, names] of Object.entries(kept)) {
    if (names.length > 0) reporter.info(`kept ${what}: ${names.join(' ')}`)
  }
  reporter.info(`remove them with: ctr-pipeline cleanup --run-id ${runId}`)
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
/** What a run that could not clean up says it left, and how to remove it. */
export function mayBeLeft(containers: number, runId: string): string {
  return (
    `${containers} container${containers === 1 ? '' : 's'} ` +
    `and the run's volumes and network may be left: run \`ctr-pipeline cleanup --run-id ${runId}\``
  )
}

export async function stopRun(backend: Backend, runId: string, keep: boolean): Promise<void> {
  if (keep) await backend.killRun(runId)
  else await backend.sweep(runId)
}

/** The planned job of one instance, with that instance only. Throws InputError for an unknown slug. */
function instanceJob(plan: PipelinePlan, slug: string): PlannedJob {
  for (const job of plan.jobs) {
    const instance = job.instances.find((i) => i.slug === slug)
    if (instance) return { ...job, instances: [instance] }
  }
  const later = plan.jobs.find((j) => j.after && (slug === j.id || slug.startsWith(`${j.id}-`)))
  if (later)
    throw new InputError(
      `--instance ${slug}: job '${later.id}' has a matrix made of the outputs of ${later.after!.map((n) => `'${n}'`).join(', ')}, whose instances exist only in a run of the whole pipeline; run it without --instance`
    )
  const known = plan.jobs.flatMap((j) => j.instances.map((i) => i.slug)).join(', ')
  throw new InputError(`--instance ${slug}: no such job instance (instances: ${known})`)
}

/** How the jobs an instance needs ended on other runners: a job without results was skipped. */
function upstreamOf(
  plan: PipelinePlan,
  job: PlannedJob,
  run: InstanceRun
): NonNullable<Scheduling['upstream']> {
  const jobs = new Map<string, UpstreamJob>()
  for (const need of job.job.needs) {
    const planned = plan.jobs.find((j) => j.id === need)!
    const results = run.upstream.filter((r) => r.job === need)
    jobs.set(need, {
      job: planned,
      results:
        results.length > 0
          ? results
          : planned.instances.map((i) =>
              notRun(i, 'skipped', 'skipped: it left no result in --inputs-from (it did not run)')
            )
    })
  }
  return { jobs, failed: run.upstream.some((r) => r.status === 'failure') }
}

/** The variables of `env` that an untrusted run may read, and no others. */
function pickVariables(
  env: Record<string, string | undefined>,
  names: readonly string[]
): Record<string, string | undefined> {
  return Object.fromEntries(
    names.filter((name) => Object.hasOwn(env, name)).map((n) => [n, env[n]])
  )
}
