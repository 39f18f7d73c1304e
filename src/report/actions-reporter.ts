import * as core from '@actions/core'
import type { JobResult, StageResult } from '../engine/run-result.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { StageSpec } from '../spec/pipeline-types.js'
import { ConsoleReporter } from './console-reporter.js'

/**
 * The console's lines, folded into one log group per job, with an error annotation at
 * the pipeline file's line for each failed stage or job.
 */
export class ActionsReporter extends ConsoleReporter {
  private groupOpen = false

  override jobStarted(job: PlannedInstance, image: string): void {
    core.startGroup(`job ${job.id}`)
    this.groupOpen = true
    super.jobStarted(job, image)
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
    if (this.groupOpen) core.endGroup()
    this.groupOpen = false
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
