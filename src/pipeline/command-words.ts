import { analyse, evaluate, type ExpressionScope } from './expression.js'
import { text } from './raw-values.js'
import { parseTemplate, render, stringify, type RenderOptions } from './template.js'

/**
 * A command given as one string, split into words at spaces as Compose does: quotes
 * ('two words' or "two words") keep spaces in a word and are removed, anywhere in it
 * (`--name="a b"` is `--name=a b`). A `{{ expression }}` is never split or unquoted, so
 * `echo {{ params.word }}` keeps its expression whole for the renderer. A list is kept as
 * it is (its non-string items as text).
 */
export function splitWords(value: unknown): string[] | undefined {
  if (typeof value === 'string') return tokenize(value)
  if (Array.isArray(value)) return value.map(text).filter((w) => w !== undefined)
  return undefined
}

function tokenize(text: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
      i += 1
      continue
    }
    let end: number
    let piece: string
    if (text.startsWith('{{', i)) {
      const close = text.indexOf('}}', i + 2)
      end = close < 0 ? text.length : close + 2
      piece = text.slice(i, end)
    } else if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1)
      // An unclosed quote is kept as written, as Compose's splitter would refuse it and the
      // schema already reports nothing better.
      end = close < 0 ? text.length : close + 1
      piece = close < 0 ? text.slice(i) : text.slice(i + 1, close)
    } else {
      end = i + 1
      piece = c
    }
    word = (word ?? '') + piece
    i = end
  }
  if (word !== undefined) words.push(word)
  return words
}

/**
 * Renders a command's words: a word that is one expression and nothing else and gives a
 * list becomes that many words (`command: ['pytest', '{{ matrix.args }}']`), as a list is
 * what argv is; every other word is rendered by `renderWord`. An expression that reads a
 * context in `later` is left to `renderWord` (it has no value yet).
 */
export function renderWords(
  words: readonly string[],
  scope: ExpressionScope,
  renderWord: (word: string) => string,
  later: ReadonlySet<string> = new Set()
): string[] {
  return words.flatMap((word) => listValue(word, scope, later) ?? [renderWord(word)])
}

function listValue(word: string, scope: ExpressionScope, later: ReadonlySet<string>) {
  const trimmed = word.trim()
  if (!trimmed.startsWith('{{') || !trimmed.endsWith('}}')) return undefined
  const segments = parseTemplate(trimmed)
  if (segments.length !== 1 || segments[0].kind !== 'expression') return undefined
  const { expr } = segments[0]
  if (analyse(expr).references.some((r) => later.has(r.path[0]))) return undefined
  const value = evaluate(expr, scope)
  return Array.isArray(value) ? value.map(stringify) : undefined
}

/** The two renderers a container plan takes, for one scope and one set of options. */
export function valueRenderers(scope: ExpressionScope, options: RenderOptions) {
  const renderValue = (text: string) => render(text, scope, options)
  return {
    renderValue,
    renderWords: (words: readonly string[]) =>
      renderWords(words, scope, renderValue, options.deferred)
  }
}
