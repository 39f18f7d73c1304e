import { InputError } from './input-error.js'
import type { ParamSpec, Pipeline } from './pipeline-types.js'
import { formatDate, parseDate } from './python-dates.js'

/**
 * The params a run sees: defaults of the file, overridden by the given values.
 * Text values (from `--param K=V`) are converted to the declared type; typed values
 * (from the action's YAML `params`) are checked against it.
 */
export function resolveParams(
  pipeline: Pipeline,
  given: Record<string, unknown>,
  now: Date = new Date()
): Record<string, unknown> {
  const problems: string[] = []
  const values: Record<string, unknown> = {}
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(pipeline.params, name)) {
      const known = Object.keys(pipeline.params).join(', ') || 'none'
      problems.push(`param '${name}' is not declared in ${pipeline.file} (declared: ${known})`)
    }
  }
  for (const [name, spec] of Object.entries(pipeline.params)) {
    const raw = Object.hasOwn(given, name) ? given[name] : defaultOf(spec, pipeline, now)
    if (raw === undefined) {
      if (spec.required)
        problems.push(`param '${name}' is required: give it with --param ${name}=VALUE`)
      // ddeutil renders an unset param as None; here it would be '': refused, not changed.
      else if (pipeline.dialect === 'ddeutil')
        problems.push(
          `param '${name}' has no value and no default: give it with --param ${name}=VALUE (ddeutil-workflow would render it as None)`
        )
      continue
    }
    try {
      values[name] = coerce(raw, spec)
    } catch (error) {
      problems.push(`param '${name}': ${(error as Error).message}`)
    }
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'))
  return values
}

/** Why a value does not fit a param's type, or undefined when it does. */
export function paramValueProblem(raw: unknown, spec: ParamSpec): string | undefined {
  try {
    coerce(raw, spec)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/**
 * A param's value when none is given: its default; for `choice` the first option, and for
 * `date` and `datetime` the run's start, as ddeutil-workflow does (and in its own files, an
 * empty list or map for its `array` and `map`).
 */
function defaultOf(spec: ParamSpec, pipeline: Pipeline, now: Date): unknown {
  if (spec.default !== undefined) return spec.default
  if (spec.type === 'choice') return spec.options?.[0]
  if (pipeline.dialect === 'ddeutil' && (spec.type === 'array' || spec.type === 'list')) return []
  if (pipeline.dialect === 'ddeutil' && spec.type === 'map') return {}
  if (spec.type === 'date') return now.toISOString().slice(0, 10)
  if (spec.type === 'datetime') return now.toISOString()
  return undefined
}

function coerce(raw: unknown, spec: ParamSpec): unknown {
  const text = typeof raw === 'string' ? raw.trim() : undefined
  const expected = (what: string) => new Error(`expected ${what}, got ${JSON.stringify(raw)}`)
  switch (spec.type) {
    case 'str':
      if (typeof raw === 'object' && raw !== null) throw expected('a string')
      return String(raw)
    case 'int': {
      const n = text !== undefined && /^-?\d+$/.test(text) ? Number(text) : raw
      if (typeof n !== 'number' || !Number.isInteger(n)) throw expected('an integer')
      return n
    }
    case 'float': {
      const n = text !== undefined && text !== '' ? Number(text) : raw
      if (typeof n !== 'number' || Number.isNaN(n)) throw expected('a number')
      return n
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw
      if (text === 'true' || text === 'false') return text === 'true'
      throw expected('true or false')
    }
    case 'date': {
      const date = text === undefined ? undefined : parseDate(text)
      if (!date) throw expected('a date, YYYY-MM-DD')
      return formatDate(date, '%Y-%m-%d')
    }
    case 'datetime': {
      const date = text === undefined ? undefined : parseDate(text)
      if (!date) throw expected('a date and time, YYYY-MM-DDTHH:MM:SS')
      // ddeutil takes it as UTC (its `replace(tzinfo=UTC)`) and shows it as Python does.
      return `${formatDate(date, date.microsecond ? '%Y-%m-%d %H:%M:%S.%f' : '%Y-%m-%d %H:%M:%S')}+00:00`
    }
    case 'decimal': {
      const value = typeof raw === 'number' ? String(raw) : text
      const rounded = value === undefined ? undefined : roundDecimal(value, spec.precision ?? 6)
      if (rounded === undefined) throw expected('a decimal number')
      return rounded
    }
    case 'choice': {
      const options = spec.options ?? []
      const found = options.find((option) => String(option) === String(raw))
      if (found === undefined || (typeof raw === 'object' && raw !== null))
        throw new Error(
          `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(raw)}`
        )
      return found
    }
    case 'array':
    case 'list': {
      const value =
        text !== undefined ? parseJson(text, () => text.split(',').map((s) => s.trim())) : raw
      if (!Array.isArray(value)) throw expected('a list (JSON, or comma-separated)')
      return value
    }
    case 'map': {
      const value = text !== undefined ? parseJson(text, () => undefined) : raw
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw expected('a JSON object')
      return value
    }
  }
}

/**
 * A decimal number written as text, rounded half to even to `places` digits after the
 * point, as Python's `Decimal.quantize` does; undefined when it is not a number.
 */
export function roundDecimal(text: string, places: number): string | undefined {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim())
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return undefined
  const [, sign, whole, fraction = '', exponent = '0'] = match
  // The digits as one integer, and where the point is counted from the right.
  let digits = BigInt(`${whole}${fraction}` || '0')
  let scale = fraction.length - Number(exponent)
  if (scale < places) {
    digits *= 10n ** BigInt(places - scale)
    scale = places
  }
  if (scale > places) {
    const divisor = 10n ** BigInt(scale - places)
    const quotient = digits / divisor
    const remainder = digits % divisor
    const twice = remainder * 2n
    digits =
      twice > divisor || (twice === divisor && quotient % 2n === 1n) ? quotient + 1n : quotient
  }
  const textDigits = digits.toString().padStart(places + 1, '0')
  const point = textDigits.length - places
  const body = places > 0 ? `${textDigits.slice(0, point)}.${textDigits.slice(point)}` : textDigits
  return `${sign === '-' && digits !== 0n ? '-' : ''}${body}`
}

function parseJson(text: string, fallback: () => unknown): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return fallback()
  }
}
