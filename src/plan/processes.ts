/** An image label that names a process (seed 003): `process.NAME=COMMAND`. */
export const PROCESS_LABEL_PREFIX = 'process.'

/** What a process says of itself when run with nothing on stdin (seed 003). */
export interface ProcessDescription {
  description: string
  /** Its inputs with example values: their JSON types are what it takes. */
  inputs: Record<string, unknown>
  /** Its outputs with example values. */
  outputs: Record<string, unknown>
}

/** A process's input or output that is not what its description says. */
export class ProcessIoError extends Error {
  override name = 'ProcessIoError'
}

/** How much of a process's unreadable answer a message quotes. */
const QUOTED_CHARS = 120

/** The processes an image's labels name: NAME to the shell command that runs it. */
export function processesOf(
  labels: Readonly<Record<string, string>> | undefined
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels ?? {})
      .filter(([key, command]) => key.startsWith(PROCESS_LABEL_PREFIX) && command.trim() !== '')
      .map(([key, command]) => [key.slice(PROCESS_LABEL_PREFIX.length), command])
  )
}

/** Reads what a process printed when asked to describe itself; throws saying what is wrong. */
export function parseDescription(stdout: string): ProcessDescription {
  const value = parseObject(stdout, 'its description')
  const { description, inputs, outputs } = value
  if (!isObject(inputs) || !isObject(outputs))
    throw new ProcessIoError(`its description has no inputs and outputs objects: ${quote(stdout)}`)
  return { description: typeof description === 'string' ? description : '', inputs, outputs }
}

/**
 * The JSON object a process gets on stdin: each input of the stage, rendered where it is
 * a string, then read as the type the description's example has (`"{{ ... }}"` giving
 * `5` for a number input is the number 5). An input the description does not name, or
 * one it names that is missing, is refused.
 */
export function processInput(
  inputs: Readonly<Record<string, unknown>>,
  description: ProcessDescription,
  render: (text: string) => string
): Record<string, unknown> {
  const expected = Object.keys(description.inputs)
  for (const key of Object.keys(inputs))
    if (!expected.includes(key))
      throw new ProcessIoError(
        `input '${key}' is not one of the process's inputs (${expected.join(', ') || 'none'})`
      )
  const missing = expected.filter((key) => !Object.hasOwn(inputs, key))
  if (missing.length > 0)
    throw new ProcessIoError(
      `input${missing.length > 1 ? 's' : ''} ${missing.map((k) => `'${k}'`).join(', ')} not given`
    )
  return Object.fromEntries(
    expected.map((key) => {
      const given = inputs[key]
      const value =
        typeof given === 'string' ? asTypeOf(render(given), description.inputs[key]) : given
      if (jsonType(value) !== jsonType(description.inputs[key]))
        throw new ProcessIoError(
          `input '${key}' is ${describe(value)}; the process takes ${jsonType(description.inputs[key])}`
        )
      return [key, value]
    })
  )
}

/**
 * A process's answer as stage outputs: every output its description names, of the type
 * its example has; strings as they are, anything else as JSON (as a py stage's
 * `result.context`), so `fromJSON` gives the value back.
 */
export function processOutputs(
  stdout: string,
  description: ProcessDescription
): Record<string, string> {
  const value = parseObject(stdout, 'its output')
  return Object.fromEntries(
    Object.entries(description.outputs).map(([key, example]) => {
      if (!Object.hasOwn(value, key))
        throw new ProcessIoError(`its output has no '${key}': ${quote(stdout)}`)
      if (jsonType(value[key]) !== jsonType(example))
        throw new ProcessIoError(
          `its output '${key}' is ${describe(value[key])}, not ${jsonType(example)}: ${quote(stdout)}`
        )
      const text =
        typeof value[key] === 'string' ? (value[key] as string) : JSON.stringify(value[key])
      return [key, text]
    })
  )
}

/** A rendered string read as the type of `example`: numbers, booleans, lists and objects as JSON. */
function asTypeOf(text: string, example: unknown): unknown {
  if (typeof example === 'string') return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function parseObject(stdout: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(stdout)
  } catch {
    throw new ProcessIoError(`${what} is not JSON: ${quote(stdout)}`)
  }
  if (!isObject(value)) throw new ProcessIoError(`${what} is not a JSON object: ${quote(stdout)}`)
  return value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A value's JSON type, as a person names it. */
function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  switch (typeof value) {
    case 'number':
      return 'a number'
    case 'boolean':
      return 'a boolean'
    case 'string':
      return 'a string'
    default:
      return 'an object'
  }
}

function describe(value: unknown): string {
  return `${jsonType(value)} (${JSON.stringify(value)})`
}

function quote(text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') return 'nothing came back'
  return trimmed.length > QUOTED_CHARS ? `'${trimmed.slice(0, QUOTED_CHARS)}...'` : `'${trimmed}'`
}
