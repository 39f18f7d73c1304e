/**
 * A date and time as Python's naive `datetime` holds it: no time zone, so formatting never
 * moves it to the machine's own.
 */
export interface NaiveDate {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  microsecond: number
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/

/**
 * Reads `YYYY-MM-DD` and `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]`, as Python's
 * `fromisoformat` does (an offset is accepted and kept out of the fields); undefined for
 * anything else or a day that does not exist.
 */
export function parseDate(text: string): NaiveDate | undefined {
  const m = ISO.exec(text.trim())
  if (!m) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((p) => Number(p ?? 0))
  const microsecond = m[7] ? Number(m[7].padEnd(6, '0')) : 0
  const check = new Date(Date.UTC(year, month - 1, day))
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  return { year, month, day, hour, minute, second, microsecond }
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December'
]

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** Python's `strftime` in the C locale, for the directives Python documents as portable. */
export function formatDate(date: NaiveDate, format: string): string {
  const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()
  const dayOfYear =
    (Date.UTC(date.year, date.month - 1, date.day) - Date.UTC(date.year, 0, 1)) / 86_400_000 + 1
  const hour12 = date.hour % 12 === 0 ? 12 : date.hour % 12
  const directives: Record<string, string> = {
    Y: String(date.year),
    y: pad(date.year % 100),
    m: pad(date.month),
    d: pad(date.day),
    H: pad(date.hour),
    I: pad(hour12),
    M: pad(date.minute),
    S: pad(date.second),
    f: pad(date.microsecond, 6),
    p: date.hour < 12 ? 'AM' : 'PM',
    a: DAYS[weekday].slice(0, 3),
    A: DAYS[weekday],
    w: String(weekday),
    b: MONTHS[date.month - 1].slice(0, 3),
    B: MONTHS[date.month - 1],
    j: pad(dayOfYear, 3),
    z: '',
    Z: '',
    '%': '%'
  }
  return format.replace(/%(.)/g, (all, letter: string) => directives[letter] ?? all)
}
