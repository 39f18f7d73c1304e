import { ExpressionError } from './expression.js'
import { formatDate, parseDate } from './python-dates.js'
import { pythonRepr, pythonStr } from './python-values.js'

/** One `| name(args)` after an expression, as ddeutil-workflow's templates write it. */
export interface Filter {
  name: string
  args: unknown[]
}

type FilterFunction = (value: unknown, args: unknown[]) => unknown

const text = (value: unknown): string => {
  if (typeof value !== 'string') throw new Error('takes a string')
  return value
}

function mapping(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('takes a map')
  return value as Record<string, unknown>
}

/**
 * ddeutil-workflow's built-in filters (its `reusables.py`), each with the meaning it has
 * there, on the JSON values a template holds here: a `date`/`datetime` param is its ISO
 * text, which `fmt` reads back as the date it names.
 */
const FILTERS: Record<string, { args: [number, number]; call: FilterFunction }> = {
  abs: { args: [0, 0], call: (v) => Math.abs(number(v)) },
  str: { args: [0, 0], call: (v) => pythonStr(v) },
  rstr: { args: [0, 0], call: (v) => pythonRepr(pythonStr(v)) },
  int: {
    args: [0, 0],
    call: (v) => {
      const n = typeof v === 'string' ? Number(v.trim()) : number(v)
      if (!Number.isFinite(n) || (typeof v === 'string' && !/^\s*[+-]?\d+\s*$/.test(v)))
        throw new Error('takes a whole number')
      return Math.trunc(n)
    }
  },
  list: {
    args: [0, 0],
    call: (v) => {
      if (Array.isArray(v)) return v
      if (typeof v === 'string') return [...v]
      return Object.keys(mapping(v))
    }
  },
  dict: { args: [0, 0], call: (v) => mapping(v) },
  title: {
    args: [0, 0],
    call: (v) =>
      text(v).replace(/[A-Za-z]+/g, (word) => word[0].toUpperCase() + word.slice(1).toLowerCase())
  },
  upper: { args: [0, 0], call: (v) => text(v).toUpperCase() },
  lower: { args: [0, 0], call: (v) => text(v).toLowerCase() },
  keys: { args: [0, 0], call: (v) => Object.keys(mapping(v)) },
  values: { args: [0, 0], call: (v) => Object.values(mapping(v)) },
  fmt: {
    args: [0, 1],
    call: (v, [format]) => {
      const date = typeof v === 'string' ? parseDate(v) : undefined
      if (!date) throw new Error('takes a date or datetime')
      return formatDate(date, typeof format === 'string' ? format : '%Y-%m-%d %H:%M:%S')
    }
  },
  coalesce: {
    args: [1, 1],
    call: (v, [fallback]) => (v === null || v === undefined ? fallback : v)
  },
  getitem: {
    args: [1, 2],
    call: (v, [key, fallback]) => {
      const map = mapping(v)
      return Object.hasOwn(map, String(key)) ? map[String(key)] : (fallback ?? null)
    }
  },
  getindex: {
    args: [1, 1],
    call: (v, [index]) => {
      if (!Array.isArray(v)) throw new Error('takes a list')
      const i = number(index)
      const item = i < 0 ? v[v.length + i] : v[i]
      if (item === undefined) throw new Error(`has no index ${i} in a list of ${v.length}`)
      return item as unknown
    }
  }
}

/** The filters' names, for messages. */
export const FILTER_NAMES = Object.keys(FILTERS)

function number(value: unknown): number {
  if (typeof value !== 'number') throw new Error('takes a number')
  return value
}

/**
 * Reads `name` or `name(arg, ...)`: the arguments are Python literals (strings in either
 * quote, numbers, True, False, None), as ddeutil allows only constants there.
 */
export function parseFilter(source: string): Filter {
  const match = /^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$/s.exec(source)
  if (!match)
    throw new ExpressionError(`'| ${source.trim()}' is not a filter (write name or name(args))`)
  const [, name, argText] = match
  const known = FILTERS[name]
  if (!known)
    throw new ExpressionError(`'${name}' is not a filter (known: ${FILTER_NAMES.join(', ')})`)
  const args = argText === undefined ? [] : pythonLiterals(argText, name)
  const [min, max] = known.args
  if (args.length < min || args.length > max)
    throw new ExpressionError(
      `filter '${name}' takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, not ${args.length}`
    )
  return { name, args }
}

function pythonLiterals(textIn: string, filter: string): unknown[] {
  const args: unknown[] = []
  const token =
    /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([+-]?\d+(?:\.\d+)?)|(True|False|None))\s*(,|$)/y
  let at = 0
  if (textIn.trim() === '') return args
  while (at < textIn.length) {
    token.lastIndex = at
    const m = token.exec(textIn)
    if (!m)
      throw new ExpressionError(
        `filter '${filter}': '${textIn.slice(at).trim()}' is not a constant (a quoted string, a number, True, False or None)`
      )
    const [, single, double, num, word] = m
    if (single !== undefined || double !== undefined)
      args.push((single ?? double).replace(/\\(.)/g, '$1'))
    else if (num !== undefined) args.push(Number(num))
    else args.push(word === 'True' ? true : word === 'False' ? false : null)
    at = token.lastIndex
    if (m[5] === '') break
  }
  return args
}

/** Applies filters in order; a value a filter cannot take is an ExpressionError naming both. */
export function applyFilters(value: unknown, filters: readonly Filter[]): unknown {
  let out = value
  for (const filter of filters) {
    try {
      out = FILTERS[filter.name].call(out, filter.args)
    } catch (error) {
      throw new ExpressionError(
        `filter '${filter.name}' ${(error as Error).message}, not ${JSON.stringify(out) ?? 'nothing'}`
      )
    }
  }
  return out
}
