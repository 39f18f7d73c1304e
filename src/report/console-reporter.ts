import type { OutputStream } from '../backend/backend.js'
import { letGo, type RunReporter } from '../scheduler/run-reporter.js'
import type { Annotation, JobResult, RunResult, StageResult } from '../scheduler/run-result.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { Pipeline, StageSpec } from '../pipeline/pipeline-types.js'
import { stdoutLines, type BlockWriter } from './block-writer.js'
import { Painter } from './colours.js'
import type { InstanceLogs } from './instance-logs.js'
import { SecretMasker } from './secret-masker.js'
import { sanitiseTerminal } from './terminal-text.js'
import { annotationLocation, seconds } from './text-format.js'

/** Where a reporter writes, and what it must never show. */
export interface ReporterOptions {
  /** Writes one line (default: to stdout, in blocks). */
  write?: (line: string) => void
  /** Without `write`: the process stream the lines go to in blocks (stderr when stdout carries a document). */
  stream?: 'stdout' | 'stderr'
  /** Secret values, masked in every line written. */
  masker?: SecretMasker
  /** Annotated files are shown relative to this folder (default: the current one). */
  baseDir?: string
  /**
   * An untrusted run: container output loses its colour sequences too (every other escape
   * sequence is always removed, see sanitiseTerminal).
   */
  untrusted?: boolean
  /** Colour job prefixes and status words (see useColour; default: off). */
  colour?: boolean
  /** Show debug lines (`CTR_DEBUG=1`; default: off). */
  debug?: boolean
  /**
   * A terminal: pulls show as one line that changes in place there (see `progress`),
   * instead of a line per change of a layer's state.
   */
  terminal?: { write(text: string): unknown; columns?: number }
  /** Keep each job instance's output whole, masked, in these files (for summaries, reports). */
  logs?: InstanceLogs
}

/** Moves to the start of the line and clears it. */
const CLEAR_LINE = '\r\x1b[2K'

/**
 * Shows a run as plain text lines, each prefixed with its job, so that output of jobs
 * stays attributable when it is grepped or when jobs run side by side. Container stdout
 * and stderr go to one stream so their order is kept. Secrets are masked in every line.
 */
export class ConsoleReporter implements RunReporter {
  protected write: (line: string) => void
  protected readonly masker: SecretMasker
  protected readonly baseDir: string
  /** Whether container output keeps its colour sequences (not in untrusted runs). */
  private readonly outputColour: boolean
  private readonly showDebug: boolean
  /** Set when lines go to stdout. */
  private readonly stdout: BlockWriter | undefined
  /** A `write` of the caller's takes one line a call. */
  private readonly linesOneByOne: boolean
  protected readonly paint: Painter
  /** Each instance's output, when the options asked for it. */
  readonly logs: InstanceLogs | undefined

  constructor(options: ReporterOptions = {}) {
    this.logs = options.logs
    const stdout = options.write ? undefined : stdoutLines(options.stream)
    this.stdout = stdout
    this.linesOneByOne = options.write !== undefined
    this.paint = new Painter(options.colour ?? false)
    const write = options.write ?? ((line: string) => stdout?.line(line))
    this.masker = options.masker ?? new SecretMasker()
    this.baseDir = options.baseDir ?? process.cwd()
    this.showDebug = options.debug ?? false
    this.outputColour = !options.untrusted
    // Masked first: a secret is found whole, before anything is taken out of its text.
    const safe = (line: string) => sanitiseTerminal(this.masker.mask(line), true)
    const { terminal } = options
    if (!terminal) {
      this.write = (line) => write(safe(line))
      return
    }
    // A line written over the live one clears it first; the next progress draws it again.
    let shown = false
    this.write = (line) => {
      write(`${shown ? CLEAR_LINE : ''}${safe(line)}`)
      shown = false
    }
    const live = new Map<string, string>()
    this.progress = (key, text) => {
      if (text === undefined) live.delete(key)
      else live.set(key, safe(text))
      this.stdout?.flush()
      const width = (terminal.columns ?? 80) - 1
      const drawn = [...live.values()].join('  |  ').slice(0, width)
      terminal.write(`${CLEAR_LINE}${drawn}`)
      shown = drawn !== ''
    }
  }

  /** Only on a terminal: see BackendEvents.progress. */
  readonly progress?: (key: string, text?: string) => void

  runStarted(pipeline: Pipeline, runId: string, where: string): void {
    this.write(`run ${runId}: ${pipeline.name} (${pipeline.file}) on ${where}`)
  }

  jobStarted(job: PlannedInstance, image: string): void {
    this.write(`${this.paint.job(job.id)} job started in ${image}`)
  }

  stageStarted(job: PlannedInstance, stage: StageSpec): void {
    this.write(`${this.paint.job(job.id)} stage ${stage.name} (${stage.type})`)
  }

  output(job: PlannedInstance, _stream: OutputStream, lines: string): void {
    const text = this.outputColour ? lines : sanitiseTerminal(lines, false)
    this.logs?.append(job.slug, sanitiseTerminal(this.masker.mask(text), true))
    const prefix = `${this.paint.job(job.id)} `
    if (this.linesOneByOne) {
      for (const line of text.split('\n')) this.write(prefix + line)
      return
    }
    // One string for the whole block: each line gets its prefix in one native pass.
    this.write(prefix + (text.includes('\n') ? text.replaceAll('\n', `\n${prefix}`) : text))
  }

  stageFinished(job: PlannedInstance, stage: StageSpec, result: StageResult): void {
    const error = result.error ? `: ${result.error}` : ''
    for (const annotation of result.annotations ?? []) {
      this.write(`${this.paint.job(job.id)} ${this.describeAnnotation(annotation)}`)
    }
    this.write(
      `${this.paint.job(job.id)} stage ${stage.name}: ${this.paint.status(result.status)}${error} (${seconds(result.duration_ms)})`
    )
  }

  /** `data/sales.csv:12:3: error: message`, as compilers print it. */
  protected describeAnnotation(annotation: Annotation): string {
    const where = annotationLocation(annotation, this.baseDir)
    const title = annotation.title ? `${annotation.title}: ` : ''
    return `${where ? `${where}: ` : ''}${annotation.level}: ${title}${annotation.message}`
  }

  jobFinished(job: PlannedInstance, result: JobResult): void {
    const outputs = Object.entries(result.outputs)
      .map(([k, v]) => `${k}=${v.length > 60 ? `${v.slice(0, 57)}...` : v}`)
      .join(', ')
    // A reason that starts with the status (`skipped: …`) says it once here.
    const repeated = `${result.status}: `
    const reason = result.error?.startsWith(repeated)
      ? result.error.slice(repeated.length)
      : result.error
    const detail = reason ? `: ${reason}` : outputs ? `; outputs: ${outputs}` : ''
    this.write(
      `${this.paint.job(job.id)} job ${this.paint.status(result.status)}${detail} (${seconds(result.duration_ms)})`
    )
    this.logs?.close(job.slug).catch(letGo(this, `closing the log of ${job.id}`))
  }

  info(message: string): void {
    this.write(message)
  }

  warning(message: string, job?: PlannedInstance): void {
    this.write(`${job ? `${this.paint.job(job.id)} ` : ''}warning: ${message}`)
  }

  debug(message: string): void {
    if (this.showDebug) this.write(`debug: ${message}`)
  }

  runFinished(result: RunResult): void {
    const jobs = result.jobs.map((j) => `${j.id} ${this.paint.status(j.status)}`).join(', ')
    this.write(
      `run ${result.run_id} ${this.paint.status(result.status)}: ${jobs} (${seconds(result.duration_ms)})`
    )
    this.flush()
  }

  backlog(): Promise<void> | undefined {
    return this.stdout?.backlog() ?? this.logs?.backlog()
  }

  /** Writes the lines held for stdout: before anything writes to stdout directly. */
  protected flush(): void {
    this.stdout?.flush()
  }
}
