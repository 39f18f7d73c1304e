import * as core from '@actions/core'
import type { OutputStream } from '../engine/docker-client.js'
import type { JobResult, StageResult } from '../engine/run-result.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { StageSpec } from '../spec/pipeline-types.js'
import { ConsoleReporter } from './console-reporter.js'
import { InstanceLogs } from './instance-logs.js'

/**
 * The console's lines on the runner's log, with an error annotation at the pipeline
 * file's line for each failed stage or job. A job instance that runs alone gets a log
 * group; while instances run side by side their lines interleave, told apart by their
 * prefix, since a group cannot hold two jobs. Each instance's log is also kept whole.
 */
export class ActionsReporter extends ConsoleReporter {
  /** The instance whose group is open, if any. */
  private grouped: string | undefined
  private readonly running = new Set<string>()
  readonly logs = new InstanceLogs()

  override jobStarted(job: PlannedInstance, image: string): void {
    if (this.grouped) {
      core.endGroup()
      this.grouped = undefined
    } else if (this.running.size === 0) {
      core.startGroup(`job ${job.id}`)
      this.grouped = job.slug
    }
    this.running.add(job.slug)
    super.jobStarted(job, image)
  }

  override output(job: PlannedInstance, stream: OutputStream, line: string): void {
    super.output(job, stream, line)
    this.logs.append(job.slug, line)
  }

  override stageFinished(job: PlannedInstance, stage: StageSpec, result: StageResult): void {
    super.stageFinished(job, stage, result)
    if (result.status === 'failure') {
      core.error(`job ${job.id}, stage ${stage.name}: ${result.error}`, {
        title: 'ctr-pipeline stage failed',
        file: stage.position.file,
        startLine: stage.position.line,
        startColumn: stage.position.col
      })
    }
  }

  override jobFinished(job: PlannedInstance, result: JobResult): void {
    super.jobFinished(job, result)
    this.running.delete(job.slug)
    if (this.grouped === job.slug) {
      core.endGroup()
      this.grouped = undefined
    }
    const failedInStage = result.stages.some((s) => s.status === 'failure')
    if (result.status === 'failure' && !failedInStage) {
      core.error(`job ${job.id}: ${result.error}`, {
        title: 'ctr-pipeline job failed',
        file: job.job.position.file,
        startLine: job.job.position.line,
        startColumn: job.job.position.col
      })
    }
  }

  override warning(message: string, job?: PlannedInstance): void {
    core.warning(job ? `job ${job.id}: ${message}` : message)
  }
}
