import { InputError } from './input-error.js'
import type { ParamSpec, Pipeline } from './pipeline-types.js'

/**
 * The params a run sees: defaults of the file, overridden by the given values.
 * Text values (from `--param K=V`) are converted to the declared type; typed values
 * (from the action's YAML `params`) are checked against it.
 */
export function resolveParams(
  pipeline: Pipeline,
  given: Record<string, unknown>
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
    const raw = Object.hasOwn(given, name) ? given[name] : spec.default
    if (raw === undefined) {
      if (spec.required)
        problems.push(`param '${name}' is required: give it with --param ${name}=VALUE`)
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

function parseJson(text: string, fallback: () => unknown): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return fallback()
  }
}
