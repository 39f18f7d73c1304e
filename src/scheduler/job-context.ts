import type { Backend, OutputHandler } from '../backend/backend.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { Pipeline } from '../pipeline/pipeline-types.js'
import type { ImageStore } from './image-store.js'
import { lineSplitter } from './line-splitter.js'
import type { RunReporter } from './run-reporter.js'
import type { ContainerGuard } from './untrusted-guard.js'
import type { ContainerWarmer } from './warm-containers.js'

/** What a job needs from the run it belongs to. */
export interface JobRunContext {
  backend: Backend
  reporter: RunReporter
  pipeline: Pipeline
  runId: string
  /** Engine names of the top-level named volumes, by key. */
  namedVolumes: Record<string, string>
  /** The run's network. */
  runNetwork: string
  /** Holds each container to the run's rules before it is built or created (containerGuard). */
  guard: ContainerGuard
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
   * Untrusted mode: the checkout, where no link may lie on the way to an instance's
   * artifacts folder (untrustedFolder).
   */
  untrustedWorkspace?: string
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
  /** `run --instance`: the host folder that is the workspace (ContainerPlanContext). */
  workspaceDir?: string
}

/** Why a job's container was killed by the job itself: it ran out of time. */
export class TimedOut extends Error {
  override name = 'TimedOut'
}

/** Hands a process's output to the reporter as lines, and waits while the reporter is behind. */
export function reportedLines(ctx: JobRunContext, instance: PlannedInstance) {
  const lines = lineSplitter(
    (stream, lines) => ctx.reporter.output(instance, stream, lines),
    ctx.secrets
  )
  const push: OutputHandler = (stream, chunk) => {
    lines.push(stream, chunk)
    return ctx.reporter.backlog()
  }
  return { push, flush: lines.flush }
}
