import {
  everyStage,
  type Annotation,
  type JobResult,
  type RunResult,
  type Status
} from '../scheduler/run-result.js'
import { mermaidDiagram } from '../plan/mermaid.js'
import type { PipelinePlan } from '../plan/pipeline-plan.js'
import type { InstanceLogs } from './instance-logs.js'
import {
  annotationLocation,
  count,
  jobOutcomes,
  markdownText,
  matrixText,
  seconds
} from './text-format.js'
import { timelineCharts } from './timeline.js'

/** GitHub refuses a step summary over 1 MiB; the summary stays under this. */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024 - 16 * 1024

/** Lines of a failed instance's log that the summary shows, and at most this many bytes. */
const TAIL_LINES = 40
const TAIL_BYTES = 16 * 1024
/** Rows of the instance table; a bigger matrix is counted, not listed. */
const MAX_ROWS = 500
/** An output value longer than this is cut in the table (the result document has it whole). */
const MAX_VALUE_CHARS = 80
const MAX_ANNOTATION_ROWS = 100

const ICONS: Record<Status, string> = {
  success: '✅',
  failure: '❌',
  skipped: '⏭️',
  cancelled: '⛔'
}

export interface SummaryOptions {
  /** The Markdown stays under this many bytes (UTF-8). */
  limitBytes?: number
  /** Annotated host paths are shown relative to this folder (the checkout). */
  baseDir?: string
  /** The HTML report's artifact, linked under the heading when it has an address. */
  report?: { name: string; url?: string }
}

/**
 * The run as Markdown, for the job summary and the PR comment: a heading with the
 * outcome, the DAG as a Mermaid diagram coloured by how each job ended, the timeline as a
 * Mermaid gantt of the instances (their stages folded in `<details>`), a table of job
 * instances (matrix values, status, duration, exit code, OOM, outputs), the stages'
 * annotations, and for each failed instance the end of its log in a collapsed block.
 * Stays under `limitBytes`: log tails are left out first (counted in a note), then the
 * timeline, then table rows.
 */
export async function summaryMarkdown(
  plan: PipelinePlan,
  result: RunResult,
  logs: InstanceLogs,
  options: SummaryOptions = {}
): Promise<string> {
  const limit = options.limitBytes ?? STEP_SUMMARY_LIMIT_BYTES
  const outcomes = jobOutcomes(plan, result)
  const head = [
    `## ${ICONS[result.status]} ${markdownText(result.pipeline)}: ${result.status}`,
    `Run \`${result.run_id}\` of ${markdownText(result.file)}: ${count(result.jobs.length, 'job instance')} in ${seconds(result.duration_ms)}.`,
    ...reportLine(options.report),
    '```mermaid\n' + mermaidDiagram(plan, outcomes) + '\n```'
  ]
  let timeline = timelinePart(result)
  const rows = result.jobs.map(tableRow)
  const annotations = result.jobs.flatMap((job) =>
    everyStage(job.stages).flatMap(({ stage }) =>
      (stage.annotations ?? []).map((a) => annotationItem(job, a, options.baseDir ?? process.cwd()))
    )
  )
  const annotationPart =
    annotations.length === 0
      ? []
      : [
          '### Annotations',
          [
            ...annotations.slice(0, MAX_ANNOTATION_ROWS),
            ...(annotations.length > MAX_ANNOTATION_ROWS
              ? [
                  `- …and ${annotations.length - MAX_ANNOTATION_ROWS} more (see the result document)`
                ]
              : [])
          ].join('\n')
        ]
  const slugs = new Map(plan.jobs.flatMap((j) => j.instances.map((i) => [i.id, i.slug])))
  const tails: string[] = []
  for (const job of result.jobs) {
    if (job.status !== 'failure') continue
    tails.push(await failedTail(job, logs, slugs.get(job.id) ?? job.job))
  }
  // The table and the tails give way when the limit is near; the rest is small.
  let shownRows = Math.min(rows.length, MAX_ROWS)
  const compose = (rowCount: number, tailCount: number) => {
    const table = [TABLE_HEAD, ...rows.slice(0, rowCount)]
    if (rowCount < rows.length)
      table.push(`| …and ${rows.length - rowCount} more (see the result output) | | | | | | |`)
    const parts = [...head, ...timeline, table.join('\n'), ...annotationPart]
    if (tails.length > 0) parts.push('### Failed job instances', ...tails.slice(0, tailCount))
    if (tailCount < tails.length)
      parts.push(`…and ${tails.length - tailCount} more failed instances: see the job's log.`)
    return `${parts.join('\n\n')}\n`
  }
  const fits = (text: string) => Buffer.byteLength(text) <= limit
  // The most tails that fit, found in a few tries: a matrix can fail in hundreds of places.
  let [low, high] = [0, tails.length]
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (fits(compose(shownRows, mid))) low = mid
    else high = mid - 1
  }
  // After the tails, the timeline gives way (the result document has its figures), then rows.
  if (low === 0 && timeline.length > 0 && !fits(compose(shownRows, 0)))
    timeline = ['### Timeline\n\nLeft out to keep the summary under its size limit.']
  let text = compose(shownRows, low)
  while (!fits(text) && shownRows > 0) {
    shownRows = Math.floor(shownRows / 2)
    text = compose(shownRows, 0)
  }
  if (!fits(text)) {
    timeline = []
    text = compose(shownRows, 0)
  }
  return text
}

/** Where the HTML report is: a link to its artifact, or its name where it has no address. */
function reportLine(report: SummaryOptions['report']): string[] {
  if (!report) return []
  const where = report.url
    ? `[${markdownText(report.name)}](${report.url})`
    : `the artifact \`${report.name}\` of this run`
  return [`The full report, every log searchable: ${where} (an HTML page, zipped).`]
}

/** The run's timeline: a gantt of its job instances, and of their stages folded away. */
function timelinePart(result: RunResult): string[] {
  const { jobs, stages, ran } = timelineCharts(result)
  if (ran === 0) return []
  if (!jobs)
    return [
      `### Timeline\n\n${ran} job instances ran: too many bars to draw (see the result document).`
    ]
  const folded = stages
    ? [`<details><summary>Stages</summary>\n\n\`\`\`mermaid\n${stages}\n\`\`\`\n\n</details>`]
    : []
  return ['### Timeline', '```mermaid\n' + jobs + '\n```', ...folded]
}

const TABLE_HEAD = [
  '| Job | Matrix | Status | Duration | Exit code | OOM | Outputs |',
  '| --- | --- | --- | --- | ---: | --- | --- |'
].join('\n')

function tableRow(job: JobResult): string {
  const matrix = matrixText(job.matrix)
  const outputs = Object.entries(job.outputs)
    .map(([k, v]) => `${k}=${v.length > MAX_VALUE_CHARS ? `${v.slice(0, MAX_VALUE_CHARS)}…` : v}`)
    .join(', ')
  const status =
    `${ICONS[job.status]} ${job.status}` +
    (job.timed_out ? ' (timed out)' : '') +
    (job.attempts > 1 ? ` after ${job.attempts} attempts` : '')
  const cells = [
    job.job,
    matrix,
    status,
    job.started_at ? seconds(job.duration_ms) : '',
    job.exit_code === null ? '' : String(job.exit_code),
    job.oom_killed ? 'killed for memory' : '',
    outputs
  ]
  return `| ${cells.map(cell).join(' | ')} |`
}

function annotationItem(job: JobResult, a: Annotation, baseDir: string): string {
  const location = annotationLocation(a, baseDir)
  const where = location ? `${markdownText(location)} ` : ''
  const title = a.title ? `**${markdownText(a.title)}**: ` : ''
  return `- ${ICONS[a.level === 'error' ? 'failure' : 'skipped']} ${where}${a.level} in ${markdownText(job.id)}: ${title}${markdownText(a.message)}`
}

async function failedTail(job: JobResult, logs: InstanceLogs, slug: string): Promise<string> {
  const tail = await logs.tail(slug, TAIL_LINES, TAIL_BYTES)
  const fence = '`'.repeat(Math.max(3, longestRun(tail, '`') + 1))
  return [
    `<details><summary>${markdownText(job.id)} failed: ${markdownText(job.error ?? '')}</summary>`,
    '',
    `${fence}text\n${tail || '(no output)'}\n${fence}`,
    '</details>'
  ].join('\n')
}

/** A table cell: one line, no column break, no HTML, no Markdown. */
const cell = markdownText

function longestRun(text: string, char: string): number {
  let longest = 0
  for (const run of text.match(new RegExp(`\\${char}+`, 'g')) ?? []) {
    longest = Math.max(longest, run.length)
  }
  return longest
}
