import type { TriggerSpec } from './pipeline-types.js'

/** One field of a five-field cron line: its name and the values it takes. */
const FIELDS: Array<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
  },
  // 0 to 6 from Sunday: GitHub documents no 7.
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] }
]

/**
 * Why a cron line is not one every scheduler here reads alike (five fields of numbers,
 * `*`, ranges `a-b`, steps `/n`, lists `a,b`, and month and day names), or undefined.
 * Argo, Airflow and GitHub each accept more (`@daily`, `L`, `#`, seconds), but not the
 * same more: a schedule is kept to what all of them run the same way.
 */
export function cronProblem(line: string): string | undefined {
  const fields = line.trim().split(/\s+/)
  if (fields.length !== 5)
    return `has ${fields.length} field${fields.length === 1 ? '' : 's'}; a cron line has five: minute hour day-of-month month day-of-week`
  for (const [i, field] of fields.entries()) {
    const spec = FIELDS[i]
    for (const part of field.split(',')) {
      const why = partProblem(part, spec)
      if (why) return `${spec.name} '${field}': ${why}`
    }
  }
  return undefined
}

function partProblem(part: string, spec: (typeof FIELDS)[number]): string | undefined {
  const [range, step, extra] = part.split('/')
  if (extra !== undefined || step === '') return `'${part}' has a misplaced '/'`
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0))
    return `the step '${step}' is not a whole number above 0`
  if (range === '*') return undefined
  const ends = range.split('-')
  if (ends.length > 2 || ends.some((e) => e === '')) return `'${range}' is not a value or a range`
  const values = ends.map((end) => valueOf(end, spec))
  const bad = ends.find((_, i) => values[i] === undefined)
  if (bad !== undefined)
    return `'${bad}' is not ${spec.min} to ${spec.max}${spec.names ? ` or a name (${spec.names[0]}, ...)` : ''}`
  if (values.length === 2 && values[0]! > values[1]!) return `the range '${range}' runs backwards`
  return undefined
}

function valueOf(text: string, spec: (typeof FIELDS)[number]): number | undefined {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1
  if (named >= 0) return named + spec.min
  if (!/^\d+$/.test(text)) return undefined
  const n = Number(text)
  return n >= spec.min && n <= spec.max ? n : undefined
}

/**
 * A valid cron line with its month and day names written as numbers (`mon-fri` is `1-5`):
 * the same schedule, in the only form every target's schema takes (Argo's takes no names).
 */
export function numericCron(line: string): string {
  return line
    .trim()
    .split(/\s+/)
    .map((field, i) => {
      const names = FIELDS[i]?.names
      if (!names) return field
      return field.replace(/[A-Za-z]+/g, (name) => {
        const at = names.indexOf(name.toLowerCase())
        return at < 0 ? name : String(at + FIELDS[i].min)
      })
    })
    .join(' ')
}

/** Whether the platform knows a time zone by this IANA name (`Asia/Bangkok`, `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch {
    return false
  }
}

/** What a schedule says, in one line: `0 2 * * * and 0 14 * * * (Asia/Bangkok)`. */
export function describeTrigger(on: TriggerSpec): string {
  const parts: string[] = []
  if (on.schedule.length > 0)
    parts.push(
      `schedule ${on.schedule.map((s) => s.cron).join(' and ')} (${on.schedule[0].timezone})`
    )
  if (on.release.length > 0) parts.push(`on release of ${on.release.join(', ')}`)
  return parts.join('; ') || 'nothing'
}

/** The line `run` prints about `on:`: a run starts when it is started. */
export function triggerNote(on: TriggerSpec): string {
  return `on: ${describeTrigger(on)}: not read by run, which starts the pipeline now; export it (argo, airflow, github) for a scheduler to start it`
}
