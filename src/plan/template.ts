/** Values an expression can reach: `params`, `run_id`, `needs`, `stages`, `matrix`, `job`. */
export type TemplateContext = Record<string, unknown>

export interface RenderOptions {
  /**
   * Where `${VAR}` comes from. Given for values the runner hands to Docker (image,
   * environment, mounts); left out for scripts, where `${VAR}` belongs to the shell.
   */
  env?: Record<string, string | undefined>
  /** Called for each `${VAR}` that is not set; it renders as an empty string. */
  onMissingVar?: (name: string) => void
}

/** An expression that cannot be evaluated; the message names the expression. */
export class TemplateError extends Error {
  override name = 'TemplateError'
}

/**
 * Renders `{{ path }}` expressions against `context`, and `${VAR}` (escape: `$${`) from
 * `options.env` when given. A missing root or name (`params.nope`, `needs.nojob`) is an
 * error; a missing output key renders empty, as in GitHub Actions.
 */
export function render(
  text: string,
  context: TemplateContext,
  options: RenderOptions = {}
): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    if (text.startsWith('{{', i)) {
      const end = text.indexOf('}}', i + 2)
      if (end < 0) throw new TemplateError(`unclosed '{{' in '${text}'`)
      const expression = text.slice(i + 2, end)
      out += stringify(evaluate(expression.trim(), context))
      i = end + 2
    } else if (options.env && text.startsWith('$${', i)) {
      out += '${'
      i += 3
    } else if (options.env && text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2)
      const name = end < 0 ? '' : text.slice(i + 2, end)
      if (!isIdentifier(name))
        throw new TemplateError(`'\${' must be followed by NAME} in '${text}'`)
      const value = options.env[name]
      if (value === undefined) options.onMissingVar?.(name)
      out += value ?? ''
      i = end + 1
    } else {
      out += text[i]
      i += 1
    }
  }
  return out
}

/** Splits `a.b['c-d'].e` into its segments; throws on anything else. */
export function parsePath(expression: string): string[] {
  const segments: string[] = []
  let i = 0
  const fail = (why: string) => new TemplateError(`cannot read '{{ ${expression} }}': ${why}`)
  if (expression === '') throw fail('empty expression')
  while (i < expression.length) {
    if (segments.length > 0) {
      if (expression[i] === '.') i += 1
      else if (expression[i] !== '[') throw fail(`unexpected '${expression[i]}' at ${i + 1}`)
    }
    if (expression[i] === '[') {
      const quote = expression[i + 1]
      if (quote !== "'" && quote !== '"') throw fail(`expected a quoted key after '['`)
      const close = expression.indexOf(quote + ']', i + 2)
      if (close < 0) throw fail(`unclosed [${quote}`)
      segments.push(expression.slice(i + 2, close))
      i = close + 2
      continue
    }
    let j = i
    while (j < expression.length && /[A-Za-z0-9_-]/.test(expression[j])) j += 1
    if (j === i)
      throw fail(
        expression.length === 0
          ? 'empty expression'
          : `unexpected '${expression[i] ?? ''}' at ${i + 1}`
      )
    segments.push(expression.slice(i, j))
    i = j
  }
  return segments
}

function evaluate(expression: string, context: TemplateContext): unknown {
  const segments = parsePath(expression)
  let value: unknown = context
  for (const [depth, segment] of segments.entries()) {
    const next =
      value !== null && typeof value === 'object' && Object.hasOwn(value, segment)
        ? (value as Record<string, unknown>)[segment]
        : undefined
    if (next === undefined) {
      // A root or a name (param, job, stage) that does not exist is a mistake in the
      // file; a key its outputs simply did not set is not.
      if (depth < 2) {
        const where = segments.slice(0, depth).join('.') || 'expressions'
        throw new TemplateError(`'{{ ${expression} }}': ${where} has no '${segment}'`)
      }
      return ''
    }
    value = next
  }
  return value
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

function isIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
}
