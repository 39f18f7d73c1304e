import type { Expr } from '@actions/expressions'
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
  | { kind: 'expression'; source: string; expr: Expr }
  | { kind: 'variable'; name: string }

export interface TemplateOptions {
  /**
   * Read `${VAR}` (escape: `$${`). On for values the runner hands to Docker (image,
   * environment, mounts); off for scripts, where `${VAR}` belongs to the shell.
   */
  variables?: boolean
}

const parsed = new Map<string, Segment[]>()

/**
 * Splits a string into text, `{{ expression }}` and `${VAR}` segments; each expression is
 * parsed (see parseExpression). Throws ExpressionError for an unclosed `{{`, a malformed
 * `${`, or an expression that does not parse.
 */
export function parseTemplate(text: string, options: TemplateOptions = {}): Segment[] {
  const key = `${options.variables ? 'v' : 't'}${text}`
  const cached = parsed.get(key)
  if (cached) return cached
  const segments: Segment[] = []
  let literal = ''
  const flush = () => {
    if (literal) segments.push({ kind: 'text', text: literal })
    literal = ''
  }
  let i = 0
  while (i < text.length) {
    if (text.startsWith('{{', i)) {
      const end = text.indexOf('}}', i + 2)
      if (end < 0) throw new ExpressionError(`unclosed '{{' in '${text}'`)
      const source = text.slice(i + 2, end)
      flush()
      segments.push({ kind: 'expression', source: source.trim(), expr: parseExpression(source) })
      i = end + 2
    } else if (options.variables && text.startsWith('$${', i)) {
      literal += '${'
      i += 3
    } else if (options.variables && text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2)
      const name = end < 0 ? '' : text.slice(i + 2, end)
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new ExpressionError(`'\${' must be followed by NAME} in '${text}'`)
      flush()
      segments.push({ kind: 'variable', name })
      i = end + 1
    } else {
      literal += text[i]
      i += 1
    }
  }
  flush()
  parsed.set(key, segments)
  return segments
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
      const value = options.env?.[segment.name]
      if (value === undefined) options.onMissingVar?.(segment.name)
      out += value ?? ''
    } else if (options.deferred && readsAny(segment.expr, options.deferred)) {
      out += `{{ ${segment.source} }}`
    } else {
      out += stringify(evaluate(segment.expr, scope))
    }
  }
  return out
}

/**
 * Evaluates a template to a value: a string that is one expression and nothing else
 * keeps the expression's type (a matrix axis from `{{ fromJSON(params.list) }}`).
 */
export function evaluateValue(text: string, scope: ExpressionScope): unknown {
  const segments = parseTemplate(text)
  if (segments.length === 1 && segments[0].kind === 'expression')
    return evaluate(segments[0].expr, scope)
  return render(text, scope)
}

/**
 * The source of an `if:` condition, without the optional `{{ }}` around it; a condition
 * that calls no status function is guarded by `success()`, as in GitHub Actions.
 */
export function conditionSource(condition: string): string {
  const trimmed = condition.trim()
  const inner =
    trimmed.startsWith('{{') && trimmed.endsWith('}}') && trimmed.indexOf('{{', 2) < 0
      ? trimmed.slice(2, -2).trim()
      : trimmed
  const { functions } = analyse(parseExpression(inner))
  return functions.some((f) => (STATUS_FUNCTIONS as readonly string[]).includes(f))
    ? inner
    : `success() && (${inner})`
}

/** Whether a job or stage with this `if:` runs, given how the ones before it went. */
export function evaluateCondition(
  condition: string | boolean | undefined,
  scope: ExpressionScope,
  outcome: Outcome
): boolean {
  const success = outcome.success && !outcome.cancelled
  if (condition === undefined) return success
  if (typeof condition === 'boolean') return condition && success
  return truthy(evaluate(parseExpression(conditionSource(condition)), scope, outcome))
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
