import { existsSync } from 'node:fs'
import path from 'node:path'
import { summarizeJob } from '../scheduler/job-summary.js'
import type { Annotation, RunResult } from '../scheduler/run-result.js'
import type { JobOutcome } from '../plan/mermaid.js'
import type { PipelinePlan } from '../plan/pipeline-plan.js'

/**
 * A file as shown to users and as GitHub annotations name it: relative to `base` (the
 * checkout, or the current folder) when it lies inside it, else as given. A relative
 * path that exists (a pipeline file named on the command line) is resolved first; one
 * that does not (`pipeline input`, a repository path written by a stage) is kept.
 */
export function relativeTo(file: string, base: string): string {
  const absolute = path.resolve(file)
  if (!path.isAbsolute(file) && !existsSync(absolute)) return file
  const relative = path.relative(base, absolute)
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative
}

/** Where an annotation points, as compilers print it: `data/sales.csv:12:3`; '' for none. */
export function annotationLocation(annotation: Annotation, base: string): string {
  if (!annotation.file) return ''
  return [relativeTo(annotation.file, base), annotation.line, annotation.col]
    .filter((part) => part !== undefined)
    .join(':')
}

/** A duration as the console and the summary show it: `1.25 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}

/** `3 job instances`, `1 job instance`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

/** An instance's matrix values as `os=linux, py="3.12"` would read them: `os=linux, py=3.12`. */
export function matrixText(matrix: Record<string, unknown>): string {
  return Object.entries(matrix)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ')
}

/** How each job of the plan that has results ended, for colouring its node of the DAG. */
export function jobOutcomes(plan: PipelinePlan, result: RunResult): Record<string, JobOutcome> {
  const outcomes: Record<string, JobOutcome> = {}
  for (const job of plan.jobs) {
    const results = result.jobs.filter((j) => j.job === job.id)
    if (results.length > 0) outcomes[job.id] = summarizeJob(job, results).result
  }
  return outcomes
}

/**
 * Text from a pipeline or its containers, as Markdown (and HTML) shows it literally, in a
 * job summary or a pull request comment, in a table cell or an HTML block: every
 * character that starts Markdown or HTML (`[`, `!`, `*`, `` ` ``, `|`, `<`, `$`...) becomes
 * a numeric character reference, which both read as that character; a line break is a
 * `<br>` (no new block can start); and an `@` is followed by a zero-width space so that a
 * name is not a mention that notifies someone.
 */
export function markdownText(text: string): string {
  return text
    .replace(/[&<>`*_[\]#|~!\\{}$]/g, (c) => `&#${c.charCodeAt(0)};`)
    .replaceAll('@', '@\u200b')
    .replace(/\r\n|\r|\n/g, '<br>')
}
