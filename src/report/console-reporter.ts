import type { OutputStream } from '../engine/docker-client.js'
import type { RunReporter } from '../engine/run-reporter.js'
import type { JobResult, RunResult, StageResult } from '../engine/run-result.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { Pipeline, StageSpec } from '../spec/pipeline-types.js'

/**
 * Shows a run as plain text lines, each prefixed with its job, so that output of jobs
 * stays attributable when it is grepped or when jobs run side by side. Container stdout
 * and stderr go to one stream so their order is kept.
 */
export class ConsoleReporter implements RunReporter {
  constructor(
    protected readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)
  ) {}

  runStarted(pipeline: Pipeline, runId: string): void {
    this.write(`run ${runId}: ${pipeline.name} (${pipeline.file})`)
  }

  jobStarted(job: PlannedInstance, image: string): void {
    this.write(`[${job.id}] job started in ${image}`)
  }

  stageStarted(job: PlannedInstance, stage: StageSpec): void {
    this.write(`[${job.id}] stage ${stage.name} (${stage.type})`)
  }

  output(job: PlannedInstance, _stream: OutputStream, line: string): void {
    this.write(`[${job.id}] ${line}`)
  }

  stageFinished(job: PlannedInstance, stage: StageSpec, result: StageResult): void {
    const error = result.error ? `: ${result.error}` : ''
    this.write(
      `[${job.id}] stage ${stage.name}: ${result.status}${error} (${seconds(result.duration_ms)})`
    )
  }

  jobFinished(job: PlannedInstance, result: JobResult): void {
    const outputs = Object.entries(result.outputs)
      .map(([k, v]) => `${k}=${v.length > 60 ? `${v.slice(0, 57)}...` : v}`)
      .join(', ')
    const detail = result.error ? `: ${result.error}` : outputs ? `; outputs: ${outputs}` : ''
    this.write(`[${job.id}] job ${result.status}${detail} (${seconds(result.duration_ms)})`)
  }

  info(message: string): void {
    this.write(message)
  }

  warning(message: string, job?: PlannedInstance): void {
    this.write(`${job ? `[${job.id}] ` : ''}warning: ${message}`)
  }

  runFinished(result: RunResult): void {
    const jobs = result.jobs.map((j) => `${j.id} ${j.status}`).join(', ')
    this.write(`run ${result.run_id} ${result.status}: ${jobs} (${seconds(result.duration_ms)})`)
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}
