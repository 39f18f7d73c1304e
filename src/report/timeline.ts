import { everyStage, type JobResult, type RunResult, type Status } from '../scheduler/run-result.js'

/** Mermaid's task tags, by how a job or stage ended: done, crit (red), or none. */
const TAGS: Record<Status, string> = {
  success: 'done, ',
  failure: 'crit, ',
  skipped: '',
  cancelled: 'active, '
}

/** Bars in one chart at most: past them the chart is counted, not drawn. */
export const MAX_BARS = 300

/**
 * A task name Mermaid's gantt grammar reads as text: `:` ends a name and `#`, `;` start a
 * comment or a new statement there, so they become look-alikes; a line break would start
 * a statement and a backtick could close the diagram's fence, so they go too.
 */
function taskName(text: string): string {
  return (
    text
      .replace(/[\r\n]+/g, ' ')
      .replaceAll('`', 'ˋ')
      .replaceAll(':', '꞉')
      .replaceAll(';', ',')
      .replaceAll('#', '＃')
      .trim() || '-'
  )
}

/** One bar: from its start for its duration, in milliseconds since the epoch (`dateFormat x`). */
function bar(name: string, status: Status, startedAt: string, durationMs: number): string {
  const start = Date.parse(startedAt)
  // A bar of no width is not drawn: the shortest is 1 ms.
  return `    ${taskName(name)} :${TAGS[status]}${start}, ${start + Math.max(1, durationMs)}`
}

function chart(title: string, sections: Array<[string, string[]]>): string {
  return [
    'gantt',
    `    title ${taskName(title)}`,
    '    dateFormat x',
    '    axisFormat %M:%S',
    ...sections.flatMap(([name, bars]) => [`    section ${taskName(name)}`, ...bars])
  ].join('\n')
}

/** The job instances that ran (have a start time), for the timelines. */
export function instancesThatRan(result: RunResult): Array<JobResult & { started_at: string }> {
  return result.jobs.filter((j): j is JobResult & { started_at: string } => j.started_at !== null)
}

/**
 * The run as Mermaid gantt charts, from the result document's start times and durations:
 * every job instance that ran, a section per job (`done` for success, `crit` for failure,
 * `active` for cancelled); and every stage that ran, a section per instance. Undefined
 * for a chart with no bar (nothing ran), or more than MAX_BARS (the summary says so).
 */
export function timelineCharts(result: RunResult): {
  jobs?: string
  stages?: string
  /** How many job instances ran. */
  ran: number
} {
  const ran = instancesThatRan(result)
  const byJob = new Map<string, string[]>()
  for (const instance of ran)
    byJob.set(instance.job, [
      ...(byJob.get(instance.job) ?? []),
      bar(instance.id, instance.status, instance.started_at, instance.duration_ms)
    ])
  const stageSections: Array<[string, string[]]> = ran
    .map((instance): [string, string[]] => [
      instance.id,
      everyStage(instance.stages).flatMap(({ name, stage: s }) =>
        s.started_at ? [bar(name, s.status, s.started_at, s.duration_ms)] : []
      )
    ])
    .filter(([, bars]) => bars.length > 0)
  const stageBars = stageSections.reduce((n, [, bars]) => n + bars.length, 0)
  return {
    ran: ran.length,
    ...(ran.length > 0 && ran.length <= MAX_BARS
      ? { jobs: chart(`run ${result.run_id}`, [...byJob]) }
      : {}),
    ...(stageBars > 0 && stageBars <= MAX_BARS ? { stages: chart('stages', stageSections) } : {})
  }
}
