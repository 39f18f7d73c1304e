/**
 * What an exported value holds where only the target knows the value (an upstream job's
 * output, the run's name, a param given at submit time, a secret): a placeholder each
 * target replaces with its own reference. The NUL bytes around it cannot come from a
 * YAML file, so a placeholder is never mistaken for the user's text.
 */
export type Placeholder =
  | { kind: 'needs'; job: string; key: string }
  | { kind: 'param'; name: string }
  | { kind: 'secret'; name: string }
  | { kind: 'run_id' }
  /**
   * A value of an instance of a matrix made of upstream outputs, known when the target
   * fans the job out: `key` a field of the row, '' the item itself, '#' what tells the
   * instances apart.
   */
  | { kind: 'item'; key: string }

// The NUL bytes are the point: no file's text holds them.
// eslint-disable-next-line no-control-regex
const PATTERN = /\u0000(needs|param|secret|run_id|item):([^\u0000]*)\u0000/g

/** The text that stands for a placeholder in an exported value. */
export function placeholder(p: Placeholder): string {
  switch (p.kind) {
    case 'needs':
      return `\u0000needs:${p.job}.${p.key}\u0000`
    case 'param':
    case 'secret':
      return `\u0000${p.kind}:${p.name}\u0000`
    case 'run_id':
      return '\u0000run_id:\u0000'
    case 'item':
      return `\u0000item:${p.key}\u0000`
  }
}

function parse(kind: string, body: string): Placeholder {
  if (kind === 'needs') {
    const dot = body.indexOf('.')
    return { kind, job: body.slice(0, dot), key: body.slice(dot + 1) }
  }
  if (kind === 'param' || kind === 'secret') return { kind, name: body }
  if (kind === 'item') return { kind, key: body }
  return { kind: 'run_id' }
}

/** Every placeholder in a text, in order. */
export function placeholdersIn(text: string): Placeholder[] {
  return [...text.matchAll(PATTERN)].map((m) => parse(m[1], m[2]))
}

/** The text with each placeholder replaced by what `to` gives for it. */
export function replacePlaceholders(text: string, to: (p: Placeholder) => string): string {
  return text.replace(PATTERN, (_, kind: string, body: string) => to(parse(kind, body)))
}

/** A text as the file wrote it, for messages: each placeholder back as its `${VAR}` or `{{ }}`. */
export function asWritten(text: string): string {
  return replacePlaceholders(text, (p) => {
    switch (p.kind) {
      case 'needs':
        return `{{ needs.${p.job}.outputs.${p.key} }}`
      case 'param':
        return `{{ params.${p.name} }}`
      case 'secret':
        return `\${${p.name}}`
      case 'run_id':
        return '{{ run_id }}'
      case 'item':
        return p.key === '#' ? '{{ job.instance }}' : `{{ matrix${p.key ? `.${p.key}` : ''} }}`
    }
  })
}

/** A text as its pieces: literal text and placeholders, in order (empty text left out). */
export function splitPlaceholders(text: string): Array<string | Placeholder> {
  const pieces: Array<string | Placeholder> = []
  let at = 0
  for (const m of text.matchAll(PATTERN)) {
    if (m.index > at) pieces.push(text.slice(at, m.index))
    pieces.push(parse(m[1], m[2]))
    at = m.index + m[0].length
  }
  if (at < text.length) pieces.push(text.slice(at))
  return pieces
}

/** The name of the `${VAR}` a text is, when it is that and nothing else. */
export function onlySecret(text: string): string | undefined {
  const [piece, ...more] = splitPlaceholders(text)
  return more.length === 0 && typeof piece === 'object' && piece.kind === 'secret'
    ? piece.name
    : undefined
}

/** Whether any string in a value (at any depth) holds a placeholder of this kind. */
export function holdsPlaceholder(value: unknown, kind: Placeholder['kind']): boolean {
  if (typeof value === 'string') return placeholdersIn(value).some((p) => p.kind === kind)
  if (Array.isArray(value)) return value.some((v) => holdsPlaceholder(v, kind))
  if (value && typeof value === 'object')
    return Object.values(value).some((v) => holdsPlaceholder(v, kind))
  return false
}
