import type { Expr } from '@actions/expressions'
import { applyFilters, parseFilter, type Filter } from './filters.js'
import { evaluatePython } from './python-condition.js'
import { pythonRepr, pythonStr } from './python-values.js'
import {
  analyse,
  evaluate,
  ExpressionError,
  parseExpression,
  STATUS_FUNCTIONS,
  truthy,
  type ExpressionScope,
  type Outcome
} from './expression.js'

/** A piece of a templated string. */
export type Segment =
  | { kind: 'text'; text: string }
  | ExpressionSegment
  | {
      kind: 'variable'
      name: string
      /** `${VAR:fallback}` (ddeutil's rule): the value when VAR is not set. */
      fallback?: string
    }

/** `{{ expr }}` or `${{ expr | filter }}`: `text` is how it was written, braces and all. */
export interface ExpressionSegment {
  kind: 'expression'
  source: string
  expr: Expr
  filters: Filter[]
  text: string
}

/**
 * Which `${VAR}`s a value reads from the run's environment: none (a script, where `${VAR}`
 * belongs to the shell), the product's rule (`true`: `${NAME}`, escaped as `$${`), or
 * ddeutil-workflow's loader's (`'ddeutil'`: `${NAME}` or `${NAME:fallback}`, `$$` is `$`,
 * and an unset one reads as `null`). A ddeutil value also writes what its expressions
 * give as Python's `str()` does (`True`, `['a', 'b']`), as ddeutil does.
 */
export type VariableSyntax = boolean | 'ddeutil'

export interface TemplateOptions {
  variables?: VariableSyntax
}

const parsed = new Map<string, Segment[]>()

/** A short, one-line quote of `text` from `at`, for messages annotations show on one line. */
export function excerpt(text: string, at = 0): string {
  const line = text.slice(at).split('\n')[0]
  return line.length > 60 ? `${line.slice(0, 57)}...` : line
}

/**
 * Splits `{{ a || b | upper }}`'s inside into the expression and its filters: a `|` that is
 * not part of `||` and not inside a string, parentheses or brackets starts a filter.
 */
function splitFilters(inside: string): { source: string; filters: string[] } {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < inside.length; i++) {
    const c = inside[i]
    if (quoted) {
      if (c === "'") quoted = false
    } else if (c === "'") quoted = true
    else if (c === '(' || c === '[') depth += 1
    else if (c === ')' || c === ']') depth -= 1
    else if (c === '|' && depth === 0) {
      if (inside[i + 1] === '|') i += 1
      else {
        parts.push(inside.slice(start, i))
        start = i + 1
      }
    }
  }
  parts.push(inside.slice(start))
  return { source: parts[0], filters: parts.slice(1) }
}

/**
 * Splits a string into text, expression and `${VAR}` segments. `{{ expr }}` and
 * `${{ expr }}` (GitHub's and ddeutil-workflow's spelling) are the same expression, and
 * either may end in ddeutil's filters (`| upper`, `| fmt('%Y')`). A literal `{{` is written
 * `{{ '{{' }}`. Throws ExpressionError for an unclosed `{{`, a malformed `${`, an unknown
 * filter, or an expression that does not parse.
 */
export function parseTemplate(text: string, options: TemplateOptions = {}): Segment[] {
  const variables = options.variables ?? false
  const key = `${String(variables)}:${text}`
  const cached = parsed.get(key)
  if (cached) return cached
  const segments = scanTemplate(text, variables, (problem) => {
    throw new ExpressionError(problem.message)
  })
  parsed.set(key, segments)
  return segments
}

/** A part of a template that does not parse, with where it starts in the value. */
export interface TemplateProblem {
  /** Offset of the `{{`, `${{` or `${` in the value. */
  at: number
  /** The part as written (an expression with its braces), to find it in the file. */
  written: string
  message: string
}

/** Every part of a template that does not parse, in order; none when it all does. */
export function templateProblems(text: string, options: TemplateOptions = {}): TemplateProblem[] {
  const problems: TemplateProblem[] = []
  scanTemplate(text, options.variables ?? false, (problem) => problems.push(problem))
  return problems
}

function scanTemplate(
  text: string,
  variables: VariableSyntax,
  onProblem: (problem: TemplateProblem) => void
): Segment[] {
  const segments: Segment[] = []
  let literal = ''
  const flush = () => {
    if (literal) segments.push({ kind: 'text', text: literal })
    literal = ''
  }
  let i = 0
  while (i < text.length) {
    const opener = text.startsWith('${{', i) ? '${{' : text.startsWith('{{', i) ? '{{' : ''
    if (opener) {
      const end = text.indexOf('}}', i + opener.length)
      if (end < 0) {
        onProblem({
          at: i,
          written: opener,
          message: `unclosed '${opener}' in '${excerpt(text, i)}'`
        })
        break
      }
      const written = text.slice(i, end + 2)
      const { source, filters } = splitFilters(text.slice(i + opener.length, end))
      try {
        const expr = parseExpression(source, written)
        flush()
        segments.push({
          kind: 'expression',
          source: source.trim(),
          expr,
          filters: filters.map((f) => parseFilter(f)),
          text: written
        })
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error
        const message = error.message.startsWith(`'${written}'`)
          ? error.message
          : `'${excerpt(written)}': ${error.message}`
        onProblem({ at: i, written, message })
      }
      i = end + 2
    } else if (variables === 'ddeutil' && text.startsWith('$$', i)) {
      literal += '$'
      i += 2
    } else if (variables === true && text.startsWith('$${', i)) {
      literal += '${'
      i += 3
    } else if (variables && text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2)
      const inner = end < 0 ? '' : text.slice(i + 2, end)
      const colon = variables === 'ddeutil' ? inner.indexOf(':') : -1
      const name = colon < 0 ? inner.trim() : inner.slice(0, colon).trim()
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        onProblem({
          at: i,
          written: end < 0 ? '${' : text.slice(i, end + 1),
          message: `'\${' must be followed by NAME} in '${excerpt(text, i)}'`
        })
        i += 2
        continue
      }
      flush()
      segments.push(
        colon < 0
          ? { kind: 'variable', name }
          : { kind: 'variable', name, fallback: inner.slice(colon + 1).trim() }
      )
      i = end + 1
    } else {
      literal += text[i]
      i += 1
    }
  }
  flush()
  return segments
}

/** An expression segment's value: the expression, then its filters. */
export function evaluateSegment(
  segment: ExpressionSegment,
  scope: ExpressionScope,
  outcome?: Outcome
): unknown {
  const value = evaluate(segment.expr, scope, outcome)
  return segment.filters.length > 0 ? applyFilters(value, segment.filters) : value
}

export interface RenderOptions extends TemplateOptions {
  /** Where `${VAR}` comes from. */
  env?: Record<string, string | undefined>
  /** Called for each `${VAR}` that is not set; it renders as an empty string. */
  onMissingVar?: (name: string) => void
  /**
   * Contexts not known yet (`plan` has no outputs and no run id): expressions that read
   * them are kept as written.
   */
  deferred?: ReadonlySet<string>
}

/**
 * Renders a templated string: each expression's value as text (lists and maps as JSON,
 * null as ''), each `${VAR}` from `options.env`.
 */
export function render(text: string, scope: ExpressionScope, options: RenderOptions = {}): string {
  if (!text.includes('{{') && !(options.variables && text.includes('$'))) return text
  let out = ''
  for (const segment of parseTemplate(text, options)) {
    if (segment.kind === 'text') out += segment.text
    else if (segment.kind === 'variable') {
      const value = options.env?.[segment.name] ?? segment.fallback
      if (value === undefined) options.onMissingVar?.(segment.name)
      out += value ?? (options.variables === 'ddeutil' ? 'null' : '')
    } else if (options.deferred && readsAny(segment.expr, options.deferred)) {
      out += segment.text
    } else {
      const value = evaluateSegment(segment, scope)
      out += options.variables === 'ddeutil' ? pythonStr(value) : stringify(value)
    }
  }
  return out
}

/** The expression a template is, when it is one expression and nothing else. */
export function loneExpression(text: string): ExpressionSegment | undefined {
  if (!text.includes('{{')) return undefined
  const segments = parseTemplate(text)
  return segments.length === 1 && segments[0].kind === 'expression' ? segments[0] : undefined
}

/**
 * Evaluates a template to a value: a string that is one expression and nothing else
 * keeps the expression's type (a matrix axis from `{{ fromJSON(params.list) }}`).
 */
export function evaluateValue(text: string, scope: ExpressionScope): unknown {
  const lone = loneExpression(text)
  return lone ? evaluateSegment(lone, scope) : render(text, scope)
}

/**
 * The source of an `if:` condition, without the optional `{{ }}` around it; a condition
 * that calls no status function is guarded by `success()`, as in GitHub Actions.
 */
export function conditionSource(condition: string): string {
  const trimmed = condition.trim()
  const opener = trimmed.startsWith('${{') ? '${{' : '{{'
  const inner =
    trimmed.startsWith(opener) && trimmed.endsWith('}}') && trimmed.indexOf('{{', opener.length) < 0
      ? trimmed.slice(opener.length, -2).trim()
      : trimmed
  const { functions } = analyse(parseExpression(inner, trimmed))
  return functions.some((f) => (STATUS_FUNCTIONS as readonly string[]).includes(f))
    ? inner
    : `success() && (${inner})`
}

/** How an `if:` is read: GitHub's expression, or (`python`) a ddeutil workflow's form. */
export interface ConditionOptions {
  /** Rendered, then read as Python (pythonCondition). */
  python?: boolean
  /** What its `${VAR}` reads, in the Python form. */
  env?: Record<string, string | undefined>
}

/**
 * Whether a job or stage with this `if:` runs, given how the ones before it went. A
 * condition in ddeutil's form runs only after success, as ddeutil stops a job at its
 * first failed stage.
 */
export function evaluateCondition(
  condition: string | boolean | undefined,
  scope: ExpressionScope,
  outcome: Outcome,
  options: ConditionOptions = {}
): boolean {
  const success = outcome.success && !outcome.cancelled
  if (condition === undefined) return success
  if (typeof condition === 'boolean') return condition && success
  if (options.python) return success && pythonCondition(condition, scope, options.env)
  return truthy(evaluate(parseExpression(conditionSource(condition)), scope, outcome))
}

/**
 * A ddeutil workflow's condition (`${{ matrix.n }} == 1`): its templates rendered as
 * ddeutil renders them, then the text read as a Python expression that must give a bool.
 */
export function pythonCondition(
  condition: string,
  scope: ExpressionScope,
  env?: Record<string, string | undefined>
): boolean {
  const rendered = render(condition, scope, { variables: 'ddeutil', env })
  const value = evaluatePython(rendered)
  if (typeof value !== 'boolean')
    throw new ExpressionError(
      `'${excerpt(condition)}' gives ${pythonRepr(value)}, not True or False (a condition in ddeutil-workflow's form, if: or until:, must give a bool)`
    )
  return value
}

/**
 * Whether a template's expressions read a context (`stages`): a script that does not can
 * be rendered before the stages ahead of it have run. A template that does not parse
 * counts as reading it (it fails when rendered, where it always did).
 */
export function readsContext(text: string, context: string): boolean {
  if (!text.includes('{{')) return false
  try {
    return parseTemplate(text).some(
      (s) => s.kind === 'expression' && readsAny(s.expr, new Set([context]))
    )
  } catch {
    return true
  }
}

/**
 * The names a template's expressions read under a context, in the order they come:
 * `needs` in `{{ fromJSON(needs.list.outputs.files) }}` gives `list`. A template that does
 * not parse reads nothing here (its check reports it).
 */
export function readNames(text: string, context: string): string[] {
  return [...new Set(readPaths(text, context).flatMap((path) => path.slice(1, 2)))]
}

/**
 * The context paths a template's expressions read under a context, in the order they
 * come (`['needs', 'list', 'outputs', 'files']`); none for a template that does not parse.
 */
export function readPaths(text: string, context: string): string[][] {
  if (!text.includes('{{')) return []
  let segments: Segment[]
  try {
    segments = parseTemplate(text)
  } catch {
    return []
  }
  return segments.flatMap((s) =>
    s.kind === 'expression'
      ? analyse(s.expr)
          .references.filter((r) => r.path[0] === context)
          .map((r) => r.path)
      : []
  )
}

function readsAny(expr: Expr, names: ReadonlySet<string>): boolean {
  return analyse(expr).references.some((r) => names.has(r.path[0]))
}

/** A value as a template renders it: lists and maps as JSON, null as ''. */
export function stringify(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}
