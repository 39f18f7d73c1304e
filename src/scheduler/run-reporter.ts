import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { Pipeline, StageSpec } from '../pipeline/pipeline-types.js'
import { errorMessage, type OutputStream } from '../backend/backend.js'
import type { JobResult, RunResult, StageResult } from './run-result.js'

/**
 * What the engine tells whoever shows a run: the console for the CLI, the runner's log,
 * groups, annotations and outputs for the action. Output arrives as whole lines.
 */
export interface RunReporter {
  /** `where` is the backend's name and where it runs. */
  runStarted(pipeline: Pipeline, runId: string, where: string): void
  /** The job's container is about to be created from `image`. */
  jobStarted(job: PlannedInstance, image: string): void
  stageStarted(job: PlannedInstance, stage: StageSpec): void
  /**
   * Whole lines a job printed: one, or several joined by `\n` (without the last one's), as
   * much as one read from the engine completed: a call per line would cost more than the
   * rest of the way from the container to the console.
   */
  output(job: PlannedInstance, stream: OutputStream, lines: string): void
  stageFinished(job: PlannedInstance, stage: StageSpec, result: StageResult): void
  jobFinished(job: PlannedInstance, result: JobResult): void
  /** Progress of the run itself, not of one job: images pulled and built. */
  info(message: string): void
  warning(message: string, job?: PlannedInstance): void
  /**
   * What only someone debugging needs: a cleanup step that failed and was let go (a kill
   * of a container already gone), shown with `CTR_DEBUG=1` or in a runner's debug log.
   */
  debug(message: string): void
  runFinished(result: RunResult): void
  /**
   * A promise while output is produced faster than it is written (a console read slowly):
   * producers wait for it rather than hold the difference in memory.
   */
  backlog(): Promise<void> | undefined
}

/**
 * A `.catch` for a step whose failure must not fail the run (removing a container on the
 * way out, a watchdog ping): the error is let go, with a trace at debug level.
 */
export function letGo(
  reporter: Pick<RunReporter, 'debug'>,
  what: string
): (error: unknown) => undefined {
  return (error) => {
    reporter.debug(`${what} failed, and is let go: ${errorMessage(error)}`)
    return undefined
  }
}
