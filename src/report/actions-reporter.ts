import * as core from '@actions/core'
import { randomUUID } from 'node:crypto'
import type { OutputStream } from '../backend/backend.js'
import type { JobResult, RunResult, StageResult } from '../scheduler/run-result.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { Pipeline, StageSpec } from '../pipeline/pipeline-types.js'
import { ConsoleReporter, type ReporterOptions } from './console-reporter.js'
import { InstanceLogs } from './instance-logs.js'
import { JobGroups } from './job-groups.js'
import { relativeTo } from './text-format.js'

export interface ActionsReporterOptions extends ReporterOptions {
  /**
   * Container output may issue workflow commands (`::error::`, `::add-mask::`...): a line
   * that is one reaches the runner as written. When false, the runner is told to stop
   * reading commands for the whole run (`::stop-commands::`), and only this reporter's
   * own annotations and groups get through.
   */
  workflowCommands: boolean
}

/**
 * The console's lines on the runner's log, with an error annotation at the pipeline
 * file's line for each failed stage or job, and the stages' own annotations about data
 * files. Each job instance's lines are folded into a group of its own (JobGroups: one
 * shows live, the others' wait and are written whole when they end). Each instance's log
 * is always kept whole, masked, for the summary.
 */
export class ActionsReporter extends ConsoleReporter {
  private readonly groups: JobGroups
  /** The instance whose lines are being written, for JobGroups to place them. */
  private writing: string | undefined
  declare readonly logs: InstanceLogs
  private readonly workflowCommands: boolean
  /** While set, the runner ignores commands until it sees `::<token>::`. */
  private stopToken: string | undefined

  constructor(options: ActionsReporterOptions) {
    super({
      ...options,
      baseDir: options.baseDir ?? process.env.GITHUB_WORKSPACE ?? process.cwd(),
      logs: options.logs ?? new InstanceLogs()
    })
    this.workflowCommands = options.workflowCommands
    const show = this.write
    this.groups = new JobGroups({
      line: show,
      open: (title) => this.command(() => core.startGroup(title)),
      close: () => this.command(() => core.endGroup())
    })
    this.write = (line) => this.groups.line(this.writing, line)
  }

  /** Runs `report` with its lines placed as `job`'s. */
  private as(job: PlannedInstance, report: () => void): void {
    const before = this.writing
    this.writing = job.slug
    try {
      report()
    } finally {
      this.writing = before
    }
  }

  override runStarted(pipeline: Pipeline, runId: string, where: string): void {
    super.runStarted(pipeline, runId, where)
    if (!this.workflowCommands) {
      // A fresh token per run: container output cannot know it, so cannot resume commands.
      this.stopToken = randomUUID()
      this.direct(`::stop-commands::${this.stopToken}`)
    }
  }

  override jobStarted(job: PlannedInstance, image: string): void {
    this.groups.started(job.slug, `job ${job.id}`)
    this.as(job, () => super.jobStarted(job, image))
  }

  override stageStarted(job: PlannedInstance, stage: StageSpec): void {
    this.as(job, () => super.stageStarted(job, stage))
  }

  override output(job: PlannedInstance, stream: OutputStream, lines: string): void {
    this.as(job, () => {
      if (this.workflowCommands && lines.includes('::')) {
        // A trusted pipeline's command (`::warning::...`) must start its line to take effect.
        for (const line of lines.split('\n')) {
          if (line.trimStart().startsWith('::')) {
            this.write(line)
            this.logs.append(job.slug, this.masker.mask(line))
          } else super.output(job, stream, line)
        }
      } else super.output(job, stream, lines)
    })
  }

  override stageFinished(job: PlannedInstance, stage: StageSpec, result: StageResult): void {
    this.as(job, () => super.stageFinished(job, stage, result))
    for (const a of result.annotations ?? []) {
      const properties: core.AnnotationProperties = {
        title: a.title && this.masker.mask(a.title),
        file: a.file && relativeTo(a.file, this.baseDir),
        startLine: a.line,
        endLine: a.end_line,
        startColumn: a.col,
        endColumn: a.end_col
      }
      const message = this.masker.mask(a.message)
      this.command(() => core[a.level](message, properties))
    }
    if (result.status === 'failure') {
      this.annotateError(`job ${job.id}, stage ${stage.name}: ${result.error}`, {
        title: 'ctr-pipeline stage failed',
        file: relativeTo(stage.position.file, this.baseDir),
        startLine: stage.position.line,
        startColumn: stage.position.col
      })
    }
  }

  override jobFinished(job: PlannedInstance, result: JobResult): void {
    this.as(job, () => super.jobFinished(job, result))
    this.groups.finished(job.slug)
    const failedInStage = result.stages.some((s) => s.status === 'failure')
    if (result.status === 'failure' && !failedInStage) {
      this.annotateError(`job ${job.id}: ${result.error}`, {
        title: 'ctr-pipeline job failed',
        file: relativeTo(job.job.position.file, this.baseDir),
        startLine: job.job.position.line,
        startColumn: job.job.position.col
      })
    }
  }

  /** The runner shows it when the workflow's step debug logging is on. */
  override debug(message: string): void {
    this.command(() => core.debug(this.masker.mask(message)))
  }

  override warning(message: string, job?: PlannedInstance): void {
    const text = this.masker.mask(job ? `job ${job.id}: ${message}` : message)
    this.command(() => core.warning(text))
  }

  override runFinished(result: RunResult): void {
    // A cancelled run may leave jobs that never said they finished.
    this.groups.end()
    super.runFinished(result)
    this.resumeCommands()
  }

  /** Lets the runner read commands again; safe to call more than once. */
  resumeCommands(): void {
    if (!this.stopToken) return
    this.direct(`::${this.stopToken}::`)
    this.stopToken = undefined
  }

  private annotateError(message: string, properties: core.AnnotationProperties): void {
    const text = this.masker.mask(message)
    this.command(() => core.error(text, properties))
  }

  /** Issues one of this reporter's own commands, reading commands again just for it. */
  private command(issue: () => void): void {
    const token = this.stopToken
    this.flush()
    if (!token) return issue()
    this.direct(`::${token}::`)
    issue()
    this.direct(`::stop-commands::${token}`)
  }

  /** Writes a line to stdout now, after the lines held before it. */
  private direct(line: string): void {
    this.flush()
    process.stdout.write(`${line}\n`)
  }
}
