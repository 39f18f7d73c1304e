/** A call in generated Python: `name(key=value, ...)`, or with positional arguments. */
export interface PyCall {
  call: string
  args?: PyValue[]
  kwargs?: Record<string, PyValue | undefined>
}

/** Python source written as it is (`timedelta(seconds=5)` built by the caller). */
export interface PyCode {
  code: string
}

export type PyValue =
  string | number | boolean | null | PyValue[] | PyCall | PyCode | { [key: string]: PyValue }

/** A call, its keyword arguments in order, those undefined left out. */
export function call(name: string, kwargs: Record<string, PyValue | undefined>): PyCall {
  return { call: name, kwargs }
}

function isCall(value: object): value is PyCall {
  return 'call' in value && typeof (value as PyCall).call === 'string'
}

/**
 * A value as a Python literal, indented for the place it goes: strings as JSON writes
 * them (every JSON string is a Python string; one of several lines as a literal per
 * line), True/False/None, lists, dicts, calls one keyword per line.
 */
export function py(value: PyValue, indent = ''): string {
  if (value === null) return 'None'
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (typeof value === 'number') return String(value)
  const inner = `${indent}    `
  if (typeof value === 'string') {
    // A script reads best a line at a time: adjacent literals, which Python joins.
    if (!value.slice(0, -1).includes('\n')) return JSON.stringify(value)
    const lines = value.split(/(?<=\n)/)
    return `(\n${lines.map((l) => `${inner}${JSON.stringify(l)}\n`).join('')}${indent})`
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    return `[\n${value.map((v) => `${inner}${py(v, inner)},\n`).join('')}${indent}]`
  }
  if ('code' in value && typeof value.code === 'string') return value.code
  if (isCall(value)) {
    const positional = (value.args ?? []).map((v) => py(v, inner))
    const named = Object.entries(value.kwargs ?? {})
      .filter((entry): entry is [string, PyValue] => entry[1] !== undefined)
      .map(([k, v]) => `${k}=${py(v, inner)}`)
    const all = [...positional, ...named]
    if (all.length === 0) return `${value.call}()`
    if (all.length === 1 && !all[0].includes('\n')) return `${value.call}(${all[0]})`
    return `${value.call}(\n${all.map((a) => `${inner}${a},\n`).join('')}${indent})`
  }
  const entries = Object.entries(value as Record<string, PyValue>)
  if (entries.length === 0) return '{}'
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${py(v, inner)},\n`).join('')}${indent}}`
}

/** A Python identifier made from a name: `Prep-0` is `prep_0`, with a prefix kept apart from keywords. */
export function pyName(prefix: string, name: string): string {
  return `${prefix}_${name.toLowerCase().replace(/[^a-z0-9_]+/g, '_')}`
}

/** A keyword argument's value, or none when it is empty (so the call leaves it out). */
export function nonEmpty<T extends object>(value: T): T | undefined {
  return Object.keys(value).length > 0 ? value : undefined
}
