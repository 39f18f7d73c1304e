import path from 'node:path'
import type { Backend } from '../backend/backend.js'
import { outputLimitFromEnv } from '../scheduler/output-file.js'
import {
  DEFAULT_ARTIFACTS_DIR,
  mayBeLeft,
  runPipeline,
  stopRun,
  type InstanceRun
} from '../scheduler/pipeline-runner.js'
import { newRunId } from '../scheduler/run-id.js'
import type { RunReporter } from '../scheduler/run-reporter.js'
import type { RunResult } from '../scheduler/run-result.js'
import type { PipelinePlan } from '../plan/pipeline-plan.js'
import { trustProblems, untrustedWarnings } from '../pipeline/host-access.js'
import { PipelineFileError } from '../pipeline/file-problems.js'
import { refuseLinkedOutputs, type OutputPath } from './output-paths.js'

/** The exit statuses of the contract. */
export const EXIT = { success: 0, failure: 1, invalid: 2, noEngine: 3, interrupted: 130 } as const

/** A max-parallel value as typed (flag or input): a whole number of at least 1, else undefined. */
export function parseMaxParallel(text: string): number | undefined {
  return /^\s*[1-9]\d*\s*$/.test(text) ? Number(text) : undefined
}

/** The process exit status for how a run ended. */
export function exitStatusOf({
  status,
  engine_lost
}: Pick<RunResult, 'status' | 'engine_lost'>): number {
  if (status === 'cancelled') return EXIT.interrupted
  if (engine_lost) return EXIT.noEngine
  if (status === 'success') return EXIT.success
  return EXIT.failure
}

/** What runSession takes: runApp makes it from RunSettings. */
export interface RunSessionOptions {
  plan: PipelinePlan
  params: Record<string, unknown>
  reporter: RunReporter
  only?: string[]
  /** At most this many job instances at once (default: the CPU count). */
  maxParallel?: number
  /** Where declared artifacts are copied, a folder per job instance. */
  artifactsDir?: string
  /** The flag or input that named `artifactsDir`, for messages (default `--artifacts-dir`). */
  artifactsFlag?: string
  /** Untrusted: the other files the caller writes after the run (`--result`, `--report`). */
  outputs?: readonly OutputPath[]
  keep?: boolean
  /**
   * Untrusted mode, for pull requests from forks: host access is refused before the run
   * starts, and every container is held to an allow-list (README: untrusted mode).
   */
  untrusted?: boolean
  /** Untrusted: the folder jobs may mount host paths from (default: the current folder). */
  workspace?: string
  /** Untrusted: the names `${VAR}` may read (`--allow-var`); none by default. */
  allowedVariables?: readonly string[]
  /** The files the pull request changes, for jobs with `changed_files`; undefined: all run. */
  changedFiles?: readonly string[]
  /** Called with the run id before anything is created (the action saves it for `post`). */
  onRunId?: (runId: string) => void
  /** Where jobs run (createBackend). */
  backend: Backend
  /** Run one job instance, its needs' results and workspace handed in (`run --instance`). */
  instance?: InstanceRun
  /** What `${VAR}` reads (default: the process's environment). */
  env?: Record<string, string | undefined>
  /** Names in `env` whose values are always masked (`--secret-file`). */
  secretNames?: readonly string[]
}

/**
 * Untrusted mode's checks before anything starts (exit 2): what the file's text already
 * shows is refused at its line, and no output path may pass through a link the checkout
 * holds. The final, rendered plan of each container is held to the allow-list again when
 * it is made (untrusted-guard). What the file sets and untrusted mode ignores is a warning.
 */
async function checkUntrusted(options: RunSessionOptions, workspace: string): Promise<void> {
  const { pipeline } = options.plan
  const refused = trustProblems(pipeline.hostAccess, pipeline.jobs, {
    untrusted: true,
    workspace,
    allowedVariables: options.allowedVariables ?? []
  })
  if (refused.length > 0) throw new PipelineFileError(refused)
  const artifacts = {
    path: path.resolve(options.artifactsDir ?? DEFAULT_ARTIFACTS_DIR),
    flag: options.artifactsFlag ?? '--artifacts-dir'
  }
  const instances = options.plan.jobs.flatMap((job) => job.instances)
  await refuseLinkedOutputs(
    [
      artifacts,
      ...instances.map((i) => ({ ...artifacts, path: path.join(artifacts.path, i.slug) })),
      ...(options.outputs ?? [])
    ],
    workspace
  )
  for (const p of untrustedWarnings(pipeline.hostAccess))
    options.reporter.warning(`${p.file}:${p.line}:${p.col}: ${p.message}`)
}

/**
 * How long after SIGINT/SIGTERM/SIGHUP the run may take to unwind before its resources
 * are removed by label and the process exits, and how long that removal may take on an
 * engine that does not answer: the GitHub runner kills at 7.5 s.
 */
const FORCED_EXIT_MS = 5000
const FORCED_CLEANUP_MS = 2000

function dropOutput(): void {}

/**
 * Runs a pipeline as a process does: checks the engine, and turns SIGINT, SIGTERM and
 * SIGHUP into a cancelled run whose containers are killed and whose resources are removed.
 */
export async function runSession(options: RunSessionOptions): Promise<RunResult> {
  const workspace = options.workspace ?? process.cwd()
  if (options.untrusted) await checkUntrusted(options, workspace)
  const outputLimitBytes = outputLimitFromEnv(process.env)
  const { backend } = options
  const runId = newRunId()
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      options.reporter.warning(`${signal} received: cancelling run ${runId}`)
      controller.abort()
    }
    // If unwinding stalls (an engine that hangs), still stop (and unless kept, remove) it
    // all, but do not wait on an engine that does not answer.
    setTimeout(() => {
      const exit = (cleaned: boolean) => {
        // Written straight to stderr (a pipe or terminal: synchronous), as the process ends.
        if (!cleaned && !options.keep)
          process.stderr.write(`${mayBeLeft(backend.liveContainers(), runId)}\n`)
        process.exit(EXIT.interrupted)
      }
      setTimeout(() => exit(false), FORCED_CLEANUP_MS).unref()
      void stopRun(backend, runId, options.keep ?? false).then(
        () => exit(true),
        () => exit(false)
      )
    }, FORCED_EXIT_MS).unref()
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const s of signals) process.on(s, onSignal)
  // A reader that quit (`run ... | head`) is Node's EPIPE, not a signal: cancel as SIGPIPE
  // would end the process, but clean up first. Later writes fail quietly.
  const onOutputError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') onSignal('SIGPIPE')
  }
  process.stdout.on('error', onOutputError)
  try {
    await backend.ping()
    options.onRunId?.(runId)
    return await runPipeline({
      plan: options.plan,
      params: options.params,
      runId,
      backend,
      reporter: options.reporter,
      env: options.env ?? process.env,
      secretNames: options.secretNames,
      only: options.only,
      maxParallel: options.maxParallel,
      artifactsDir: options.artifactsDir,
      keep: options.keep,
      outputLimitBytes,
      untrusted: options.untrusted
        ? { workspace, allowedVariables: options.allowedVariables ?? [] }
        : undefined,
      changedFiles: options.changedFiles,
      instance: options.instance,
      signal: controller.signal
    })
  } finally {
    for (const s of signals) process.off(s, onSignal)
    process.stdout.off('error', onOutputError)
    // The run's last lines may still meet the closed pipe: they are dropped, not a crash.
    if (!process.stdout.listeners('error').includes(dropOutput))
      process.stdout.on('error', dropOutput)
  }
}
