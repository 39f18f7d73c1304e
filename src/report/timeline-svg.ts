import type { JobResult, RunResult } from '../scheduler/run-result.js'
import { anchor, html, shorten, statusClass } from './html-text.js'
import { seconds } from './text-format.js'
import { instancesThatRan } from './timeline.js'

const LABEL_W = 230
const CHART_W = 760
const ROW_H = 18
const BAR_H = 12
const AXIS_H = 22
const LABEL_CHARS = 34
/** Rows drawn at most; a bigger run's timeline says how many it left out. */
export const MAX_TIMELINE_ROWS = 1000

/** A tick step of 1, 2 or 5 times a power of ten seconds, giving at most 8 ticks. */
export function tickStep(spanMs: number): number {
  let step = 100
  for (;;) {
    for (const factor of [1, 2, 5]) if (spanMs / (step * factor) <= 8) return step * factor
    step *= 10
  }
}

export function tickLabel(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`
  const total = Math.round(ms / 1000)
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`
}

/**
 * The run as an SVG gantt: a row per job instance that ran, its bar from its start for its
 * duration, coloured by its status, with its stages as segments inside it; the time axis
 * counts from the run's start. Each bar's tooltip gives its figures, and its label links
 * to its log. '' when nothing ran.
 */
export function timelineSvg(result: RunResult, slugOf: (job: JobResult) => string): string {
  const ran = instancesThatRan(result)
  if (ran.length === 0) return ''
  const shown = ran.slice(0, MAX_TIMELINE_ROWS)
  const t0 = Date.parse(result.started_at)
  const end = Math.max(
    result.duration_ms,
    ...ran.map((j) => Date.parse(j.started_at) - t0 + j.duration_ms)
  )
  const span = Math.max(end, 1)
  const x = (ms: number) => LABEL_W + Math.round((Math.max(0, ms) / span) * CHART_W * 10) / 10
  const w = (ms: number) => Math.max(1, Math.round((ms / span) * CHART_W * 10) / 10)
  const height = AXIS_H + shown.length * ROW_H + 4
  const width = LABEL_W + CHART_W + 40
  const step = tickStep(span)
  const ticks: string[] = []
  for (let t = 0; t <= span; t += step)
    ticks.push(
      `<line class="tick" x1="${x(t)}" y1="${AXIS_H - 4}" x2="${x(t)}" y2="${height}"/>` +
        `<text class="tick-label" x="${x(t)}" y="${AXIS_H - 8}">${tickLabel(t)}</text>`
    )
  const rows = shown.map((job, i) => {
    const top = AXIS_H + i * ROW_H
    const start = Date.parse(job.started_at) - t0
    const stages = job.stages.flatMap((stage) =>
      stage.started_at
        ? [
            `<rect class="seg ${statusClass(stage.status)}" x="${x(Date.parse(stage.started_at) - t0)}" y="${top + 5}" width="${w(stage.duration_ms)}" height="${BAR_H - 6}">` +
              `<title>stage ${html(stage.name)}: ${stage.status}, ${seconds(stage.duration_ms)}</title></rect>`
          ]
        : []
    )
    return [
      `<a href="#${anchor('log', slugOf(job))}"><text class="label" x="${LABEL_W - 8}" y="${top + ROW_H / 2 + 1}">${html(shorten(job.id, LABEL_CHARS))}<title>${html(job.id)}</title></text></a>`,
      `<rect class="bar ${statusClass(job.status)}" x="${x(start)}" y="${top + 2}" width="${w(job.duration_ms)}" height="${BAR_H}" rx="2">` +
        `<title>${html(job.id)}: ${job.status}, ${seconds(job.duration_ms)}, from +${seconds(start)}</title></rect>`,
      ...stages
    ].join('')
  })
  const more =
    ran.length > shown.length
      ? `\n<p class="muted">…and ${ran.length - shown.length} more job instances, not drawn.</p>`
      : ''
  return (
    [
      `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="When each job instance ran">`,
      ...ticks,
      ...rows,
      '</svg>'
    ].join('\n') + more
  )
}
