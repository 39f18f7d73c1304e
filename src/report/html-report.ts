import {
  everyStage,
  type Annotation,
  type JobResult,
  type RunResult,
  type StageResult,
  type Status
} from '../scheduler/run-result.js'
import type { PipelinePlan } from '../plan/pipeline-plan.js'
import { dagSvg } from './dag-svg.js'
import { REPORT_CSP, REPORT_CSS, REPORT_SCRIPT } from './html-assets.js'
import { anchor, html, shorten, statusClass } from './html-text.js'
import type { InstanceLogs } from './instance-logs.js'
import { annotationLocation, count, jobOutcomes, matrixText, seconds } from './text-format.js'
import { timelineSvg } from './timeline-svg.js'

/** All the logs in one report take at most about this many bytes (see logShare). */
export const REPORT_LOG_BUDGET_BYTES = 16 * 1024 * 1024
/** The table's columns: the heading, and whether it holds figures (aligned right). */
const COLUMNS: Array<[string, boolean]> = [
  ['Job instance / stage', false],
  ['Matrix', false],
  ['Status', false],
  ['Start', true],
  ['Duration', true],
  ['Exit code', true],
  ['OOM', false],
  ['Outputs', false]
]
/** An output value longer than this is cut in the table (the result document has it whole). */
const MAX_VALUE_CHARS = 400

export interface HtmlReportOptions {
  /** Annotated host paths are shown relative to this folder (default: the current one). */
  baseDir?: string
  /** Bytes all logs may take together (default REPORT_LOG_BUDGET_BYTES). */
  logBudgetBytes?: number
}

/**
 * The bytes of each instance's log a report keeps (its end): an equal share of the
 * budget, but never under 32 KiB (the end of a failure must show) nor over 1 MiB (a
 * browser slows on one huge text).
 */
export function logShare(instances: number, budget = REPORT_LOG_BUDGET_BYTES): number {
  const share = Math.floor(budget / Math.max(1, instances))
  return Math.min(1024 * 1024, Math.max(32 * 1024, share))
}

/**
 * The run as one self-contained HTML page that loads nothing (its policy forbids it): a
 * header with the outcome, the DAG and the timeline as SVG, a table with a row per job
 * instance and per stage (status, start, duration, exit code, OOM, outputs, error), the
 * stages' annotations, and every instance's log, searchable, failed ones open. Each log
 * keeps its end, within logShare. `result` and the logs are shown as given: mask them
 * first.
 */
export async function htmlReport(
  plan: PipelinePlan,
  result: RunResult,
  logs: InstanceLogs,
  options: HtmlReportOptions = {}
): Promise<string> {
  const slugs = new Map(plan.jobs.flatMap((j) => j.instances.map((i) => [i.id, i.slug])))
  const slugOf = (job: JobResult) => slugs.get(job.id) ?? job.id
  const outcomes = jobOutcomes(plan, result)
  const share = logShare(result.jobs.length, options.logBudgetBytes)
  const logParts: string[] = []
  for (const job of result.jobs) logParts.push(await logPart(job, slugOf(job), logs, share))
  const t0 = Date.parse(result.started_at)
  const timeline = timelineSvg(result, slugOf)
  const annotations = annotationItems(result, options.baseDir ?? process.cwd())
  const title = `${result.pipeline}: ${result.status}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ctr-pipeline">
<title>${html(title)} · ctr-pipeline</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${badge(result.status)} ${html(result.pipeline)}</h1>
<p class="muted">Run <code>${html(result.run_id)}</code> of <code>${html(result.file)}</code>: ${count(result.jobs.length, 'job instance')}, ${countsByStatus(result.jobs)}; started ${html(result.started_at)}, took ${seconds(result.duration_ms)}.</p>
${result.error ? `<p class="err" id="run-error">${html(result.error)}</p>` : ''}
</header>
<section id="dag"><h2>Jobs</h2>
<div class="scroll">${dagSvg(plan, outcomes)}</div></section>
${timeline ? `<section id="timeline"><h2>Timeline</h2>\n<div class="scroll">${timeline}</div></section>` : ''}
<section id="instances"><h2>Job instances and stages</h2>
<div class="scroll"><table>
<thead><tr>${COLUMNS.map(([heading]) => `<th>${heading}</th>`).join('')}</tr></thead>
<tbody>
${result.jobs.map((job) => instanceRows(job, slugOf(job), t0)).join('\n')}
</tbody></table></div></section>
${annotations ? `<section id="annotations"><h2>Annotations</h2>\n<ul>${annotations}</ul></section>` : ''}
<section id="logs"><h2>Logs</h2>
<div class="search"><input id="search" type="search" placeholder="Search the logs (Enter: next match)" aria-label="Search the logs" autocomplete="off"><span id="hits" class="muted"></span></div>
${logParts.join('\n')}
</section>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`
}

function badge(status: Status): string {
  return `<span class="badge ${statusClass(status)}">${status}</span>`
}

function countsByStatus(jobs: JobResult[]): string {
  const counts = new Map<Status, number>()
  for (const job of jobs) counts.set(job.status, (counts.get(job.status) ?? 0) + 1)
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ') || 'none ran'
}

/** The row of an instance, then a row per stage under it. */
function instanceRows(job: JobResult, slug: string, t0: number): string {
  const notes = [
    job.timed_out ? 'timed out' : '',
    job.attempts > 1 ? `after ${job.attempts} attempts` : ''
  ].filter(Boolean)
  const instance = row(
    `instance ${statusClass(job.status)}`,
    `id="${anchor('i', slug)}" data-status="${job.status}"`,
    [
      `<a href="#${anchor('log', slug)}">${html(job.id)}</a>`,
      html(matrixText(job.matrix)),
      statusCell(job.status, notes, job.error),
      ...timing(job.started_at, job.duration_ms, t0),
      exitCode(job.exit_code),
      job.oom_killed ? 'killed for memory' : '',
      outputs(job.outputs)
    ]
  )
  const stages = everyStage(job.stages).map(({ name, depth, stage }) =>
    stageRow(stage, t0, name, depth)
  )
  return [instance, ...stages].join('\n')
}

/** A stage's row; one inside a stage that holds stages is indented by its depth. */
function stageRow(stage: StageResult, t0: number, name: string, depth: number): string {
  const shown =
    depth > 0 ? `<span class="nest${Math.min(depth, 3)}">${html(name)}</span>` : html(name)
  return row(`stage ${statusClass(stage.status)}`, `data-status="${stage.status}"`, [
    `${shown} <span class="muted">(${html(stage.type)})</span>`,
    '',
    statusCell(stage.status, stage.timed_out ? ['timed out'] : [], stage.error),
    ...timing(stage.started_at ?? null, stage.duration_ms, t0),
    exitCode(stage.exit_code),
    stage.oom_killed ? 'killed for memory' : '',
    outputs(stage.outputs)
  ])
}

/** The status badge, notes after it (`timed out`), and the error under it. */
function statusCell(status: Status, notes: string[], error: string | undefined): string {
  return (
    badge(status) +
    (notes.length ? ` <span class="muted">${notes.join(', ')}</span>` : '') +
    (error ? `<div class="err">${html(error)}</div>` : '')
  )
}

function row(classes: string, attributes: string, cells: string[]): string {
  const tds = cells.map((cell, i) => `<td${COLUMNS[i][1] ? ' class="num"' : ''}>${cell}</td>`)
  return `<tr class="${classes}" ${attributes}>${tds.join('')}</tr>`
}

/** Start (from the run's) and duration: empty for what did not run. */
function timing(startedAt: string | null, durationMs: number, t0: number): [string, string] {
  if (!startedAt) return ['', '']
  return [`+${seconds(Date.parse(startedAt) - t0)}`, seconds(durationMs)]
}

function exitCode(code: number | null): string {
  return code === null ? '' : String(code)
}

function outputs(values: Record<string, string>): string {
  const entries = Object.entries(values)
  if (entries.length === 0) return ''
  return `<div class="out mono">${entries.map(([k, v]) => html(`${k}=${shorten(v, MAX_VALUE_CHARS)}`)).join('<br>')}</div>`
}

/** An annotation's level in the colour of the status it resembles. */
const LEVEL_CLASSES: Record<Annotation['level'], string> = {
  error: statusClass('failure'),
  warning: statusClass('cancelled'),
  notice: statusClass('skipped')
}

function annotationItems(result: RunResult, baseDir: string): string {
  return result.jobs
    .flatMap((job) =>
      everyStage(job.stages).flatMap(({ stage }) =>
        (stage.annotations ?? []).map((a) => {
          const where = annotationLocation(a, baseDir)
          return (
            `<li><span class="badge ${LEVEL_CLASSES[a.level]}">${a.level}</span> ` +
            `${where ? `<code>${html(where)}</code> ` : ''}in ${html(job.id)}: ` +
            `${a.title ? `<strong>${html(a.title)}</strong>: ` : ''}${html(a.message)}</li>`
          )
        })
      )
    )
    .join('\n')
}

async function logPart(job: JobResult, slug: string, logs: InstanceLogs, share: number) {
  const { text, size, cut } = await logs.read(slug, share)
  const heading =
    `${badge(job.status)} <span class="mono">${html(job.id)}</span>` +
    (job.error ? ` <span class="muted">${html(job.error)}</span>` : '')
  const note = cut
    ? `<p class="muted">The log has ${size} bytes: its last ${Buffer.byteLength(text)} are shown.</p>`
    : ''
  const body = text || (job.started_at ? '(no output)' : '(did not run)')
  return (
    `<details class="log ${statusClass(job.status)}" id="${anchor('log', slug)}" data-id="${html(job.id)}" data-status="${job.status}"${job.status === 'failure' ? ' open' : ''}>` +
    `<summary>${heading}</summary>${note}<pre>${html(body)}</pre></details>`
  )
}
