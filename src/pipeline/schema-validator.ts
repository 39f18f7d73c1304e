import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import schema from '../../schema/ctr-pipeline.schema.json' with { type: 'json' }
import { closest } from './closest.js'
import { otherName } from './other-names.js'
import { MAX_CPUS, MAX_MEMORY_BYTES, parseCpu, parseDuration, parseMemory } from './quantities.js'
import type { FileProblem } from './file-problems.js'
import { describePath, type DocPath, type YamlSource } from './yaml-source.js'

type Schema = Record<string, unknown>

/** The JSON Schema of the pipeline file, as shipped in `schema/` for editors. */
export const PIPELINE_SCHEMA: Schema = schema

/**
 * What this validator compiles: the shipped schema without the `pattern` of quantities.
 * Editors know only the pattern (a form); the `quantity` keyword here checks the form and
 * the range, and says which was wrong, where a pattern could only print itself.
 */
const CHECKED_SCHEMA: Schema = {
  ...schema,
  definitions: Object.fromEntries(
    Object.entries(schema.definitions as Record<string, Schema>).map(([name, definition]) => {
      if (!('quantity' in definition)) return [name, definition]
      const checked = { ...definition }
      delete checked.pattern
      return [name, checked]
    })
  )
}

/** Values that hold an expression are checked once rendered, not against a format. */
const templated = (text: string) => text.includes('{{') || text.includes('${')

/** The longest a Node timer can wait (2^31 - 1 ms, about 24.8 days); longer fires at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

/**
 * The quantities the schema names with its `quantity` keyword, for strings and numbers
 * alike: each says what is wrong with a value, or nothing. Ranges are checked here, at
 * validate, because past them the engine's JSON decoder or Node's timers fail at run time.
 */
const QUANTITIES: Record<string, (value: string | number) => string | undefined> = {
  memory: (value) => {
    const bytes = typeof value === 'number' ? value : parseMemory(value)
    if (typeof value === 'number' && value > MAX_MEMORY_BYTES)
      return 'is more than any memory size can be (8 PiB)'
    if (bytes === undefined || !(bytes > 0) || !Number.isInteger(bytes))
      return 'is not a memory size of at most 8 PiB (examples: 512m, 2g, 1.5Gi, or bytes as a number)'
    return undefined
  },
  cpu: (value) => {
    if (typeof value === 'number' && value > MAX_CPUS)
      return `is more CPUs than any machine has (at most ${MAX_CPUS})`
    const nano = typeof value === 'number' ? Math.round(value * 1e9) : parseCpu(value)
    if (nano === undefined || !(nano > 0))
      return `is not a CPU count of at most ${MAX_CPUS} (2, 1.5, 500m)`
    return undefined
  },
  duration: (value) => durationProblem(value, 0),
  timeout: (value) => durationProblem(value, 1)
}

/** Quantities rendered with the run's values (resources); durations are read at load. */
const RENDERED = new Set(['memory', 'cpu'])

function durationProblem(value: string | number, leastMs: number): string | undefined {
  if (typeof value === 'string' && templated(value))
    return 'cannot be an expression: durations are read when the file is loaded; write one such as 30s or 5m'
  const ms = typeof value === 'number' ? value * 1000 : parseDuration(value)
  if (ms === undefined || Number.isNaN(ms) || ms < leastMs)
    return leastMs > 0
      ? 'is not a timeout: give seconds above 0, or a duration such as 30s, 5m, 1h30m'
      : 'is not a duration (examples: 30s, 5m, 1h30m, or seconds as a number)'
  if (ms > MAX_TIMEOUT_MS) return 'is longer than a timer can wait: at most 596h (24.8 days)'
  return undefined
}

// The schema is ours and checked against the meta-schema by a test, so it is not checked
// again at each start; unoptimised code compiles faster. Both save about a third of the
// compile, which is part of every run's start-up.
const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: false,
  validateSchema: false,
  code: { optimize: false }
})
ajv.addKeyword({
  keyword: 'quantity',
  type: ['string', 'number'],
  schemaType: 'string',
  validate: (kind: string, value: string | number) =>
    (typeof value === 'string' && templated(value) && RENDERED.has(kind)) ||
    QUANTITIES[kind](value) === undefined
})

let validatePipeline: ValidateFunction | undefined
const branchValidators = new Map<string, ValidateFunction>()

/**
 * Checks the parsed file against the schema and turns every violation into a problem at
 * the line and column of the key or value at fault, worded for a person: unknown keys
 * with the nearest valid one, `anyOf` alternatives reduced to the one the user meant.
 */
export function schemaProblems(
  value: unknown,
  source: YamlSource,
  silenced: readonly DocPath[] = []
): FileProblem[] {
  validatePipeline ??= ajv.compile(CHECKED_SCHEMA)
  validatePipeline(value)
  // A missing key is silenced with the path it would have had.
  const inSilenced = (e: ErrorObject) => {
    const path = toPath(e.instancePath)
    if (e.keyword === 'required')
      path.push(String((e.params as Record<string, unknown>).missingProperty))
    return silenced.some((s) => s.every((segment, i) => String(path[i]) === String(segment)))
  }
  return explain(
    (validatePipeline.errors ?? []).filter((e) => !inSilenced(e)),
    [],
    source
  )
}

function explain(errors: ErrorObject[], base: DocPath, source: YamlSource): FileProblem[] {
  const problems: FileProblem[] = []
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
  // Errors under a failed anyOf are re-derived branch by branch; ajv's own list mixes them.
  const underAlternative = (e: ErrorObject) =>
    alternatives.some(
      (a) =>
        a !== e &&
        (e.instancePath === a.instancePath || e.instancePath.startsWith(`${a.instancePath}/`))
    )
  for (const error of errors) {
    if (error.propertyName !== undefined || error.keyword === 'if') continue
    if (underAlternative(error)) continue
    const path = [...base, ...toPath(error.instancePath)]
    if (error === alternatives.find((a) => a.instancePath === error.instancePath)) {
      problems.push(...explainAlternatives(error, path, source))
    } else if (!alternatives.includes(error)) {
      problems.push(explainOne(error, path, source))
    }
  }
  return dedupe(problems)
}

function explainOne(error: ErrorObject, path: DocPath, source: YamlSource): FileProblem {
  const where = describePath(path)
  const data = error.data
  const params = error.params as Record<string, unknown>
  const parent = (error.parentSchema ?? {}) as Schema
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const known = Object.keys((parent.properties as Schema | undefined) ?? {})
      const near = closest(key, known)
      const hint = otherName(key, known) ?? (near && `did you mean '${near}'?`)
      return {
        ...source.keyPosition([...path, key]),
        message: `${where}: unknown key '${key}'${hint ? ` (${hint})` : ''}`
      }
    }
    case 'propertyNames': {
      const key = String(params.propertyName)
      const what = path.length === 1 && path[0] === 'jobs' ? 'job id' : 'name'
      return {
        ...source.keyPosition([...path, key]),
        message: `${where}: ${what} '${key}' must start with a letter or '_' and hold only letters, digits, '-' and '_'`
      }
    }
    case 'required': {
      const missing = String(params.missingProperty)
      // Required by a stage's or a param's type (`if: {type: bash}, then: {required: [run]}`).
      const type = (data as Record<string, unknown> | null)?.type
      const what = error.schemaPath.includes('/param/') ? 'param' : 'stage'
      if (error.schemaPath.includes('/then/') && typeof type === 'string')
        return {
          ...source.keyPosition(path),
          message: `${where}: a '${type}' ${what} needs '${missing}:'`
        }
      const message =
        path.length === 0 ? `pipeline has no '${missing}:'` : `${where} has no '${missing}:'`
      return { ...source.keyPosition(path), message }
    }
    case 'type':
      return {
        ...source.valuePosition(path),
        message: `${where} must be ${typeWords(params.type)}, not ${describeValue(data)}`
      }
    case 'enum':
    case 'const': {
      const allowed = (
        error.keyword === 'enum' ? params.allowedValues : [params.allowedValue]
      ) as unknown[]
      const hint = typeof data === 'string' ? closest(data, allowed.map(String)) : undefined
      return {
        ...source.valuePosition(path),
        message: `${where}: ${describeValue(data)} is not one of: ${allowed.join(', ')}${hint ? ` (did you mean '${hint}'?)` : ''}`
      }
    }
    case 'quantity':
      return {
        ...source.valuePosition(path),
        message: `${where}: ${describeValue(data)} ${QUANTITIES[String(error.schema)](data as string | number)}`
      }
    case 'minimum':
    case 'maximum':
      return {
        ...source.valuePosition(path),
        message: `${where} must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}, not ${describeValue(data)}`
      }
    case 'pattern':
      return {
        ...source.valuePosition(path),
        message: `${where}: '${String(data)}' is not valid: ${String(parent.description ?? error.message)}`
      }
    default:
      return {
        ...source.valuePosition(path),
        message: `${where} ${error.message ?? 'is not valid'}`
      }
  }
}

/**
 * A value matched none of an `anyOf`'s alternatives. Each alternative is validated on its
 * own (with the schema's other keywords at that place); the one that got furthest is
 * taken as what the user meant. When none got past the value's type, one message lists
 * what would have been accepted.
 */
function explainAlternatives(error: ErrorObject, path: DocPath, source: YamlSource): FileProblem[] {
  const parent = error.parentSchema as Schema
  const branches = error.schema as Schema[]
  const rest = Object.fromEntries(Object.entries(parent).filter(([k]) => k !== error.keyword))
  const check = (key: string, branch: Schema) => {
    let validate = branchValidators.get(key)
    if (!validate) {
      const allOf = [...((rest.allOf as Schema[] | undefined) ?? []), branch]
      validate = ajv.compile({ ...rest, allOf, definitions: CHECKED_SCHEMA.definitions })
      branchValidators.set(key, validate)
    }
    validate(error.data)
    return validate.errors ?? []
  }
  // `anyOf: [{required: [image]}, {required: [build]}]`: one of several keys must be there.
  if (branches.every((b) => Object.keys(b).length === 1 && Array.isArray(b.required))) {
    const names = branches.flatMap((b) => b.required as string[]).map((n) => `'${n}:'`)
    return [
      { ...source.keyPosition(path), message: `${describePath(path)} needs ${names.join(' or ')}` },
      ...explain(check(`${error.schemaPath}/rest`, {}), path, source)
    ]
  }
  const scored = branches.map((branch, i) => {
    const errors = check(`${error.schemaPath}/${i}`, branch)
    return { errors, rank: Math.min(...errors.map(rank)) }
  })
  const best = scored.reduce((a, b) => (b.rank < a.rank ? b : a))
  if (best.rank >= RANK_ENUM) {
    const accepted = branches.map(describeBranch).join(' or ')
    return [
      {
        ...source.valuePosition(path),
        message: `${describePath(path)} must be ${accepted}, not ${describeValue(error.data)}`
      }
    ]
  }
  return explain(best.errors, path, source)
}

const RANK_ENUM = 2
/** How far a value got into an alternative: deeper errors mean it took that shape. */
function rank(e: ErrorObject): number {
  if (e.instancePath !== '') return 0
  if (e.keyword === 'type') return 3
  if (e.keyword === 'enum' || e.keyword === 'const') return RANK_ENUM
  return 1
}

function describeBranch(branch: Schema): string {
  if (Array.isArray(branch.enum)) return branch.enum.map((v) => `'${String(v)}'`).join(' or ')
  if ('const' in branch) return `'${String(branch.const)}'`
  if (typeof branch.$ref === 'string') {
    const name = branch.$ref.split('/').pop()!
    const target = (CHECKED_SCHEMA.definitions as Record<string, Schema>)[name]
    return target.type ? typeWords(target.type) : name
  }
  return typeWords(branch.type)
}

function typeWords(type: unknown): string {
  const words: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    integer: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
    null: 'empty'
  }
  const types = Array.isArray(type) ? type : [type]
  return types.map((t) => words[String(t)] ?? String(t)).join(' or ')
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `'${value}'`
  return `${typeof value} ${String(value)}`
}

function toPath(pointer: string): (string | number)[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

function dedupe(problems: FileProblem[]): FileProblem[] {
  const seen = new Set<string>()
  return problems.filter((p) => {
    const key = `${p.line}:${p.col}:${p.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
