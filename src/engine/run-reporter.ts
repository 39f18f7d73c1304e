import type { JobSpec, Pipeline, StageSpec } from '../spec/pipeline-types.js'
import type { OutputStream } from './docker-client.js'
import type { JobResult, RunResult, StageResult } from './run-result.js'

/**
 * What the engine tells whoever shows a run: the console for the CLI, the runner's log,
 * groups, annotations and outputs for the action. Output arrives as whole lines.
 */
export interface RunReporter {
  runStarted(pipeline: Pipeline, runId: string): void
  jobStarted(job: JobSpec): void
  stageStarted(job: JobSpec, stage: StageSpec): void
  output(job: JobSpec, stream: OutputStream, line: string): void
  stageFinished(job: JobSpec, stage: StageSpec, result: StageResult): void
  jobFinished(job: JobSpec, result: JobResult): void
  warning(message: string, job?: JobSpec): void
  runFinished(result: RunResult): void
}
