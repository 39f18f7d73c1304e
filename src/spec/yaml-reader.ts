import { isMap, isScalar, isSeq, LineCounter, type Node, type Pair } from 'yaml'
import type { SourcePosition, SpecProblem } from './spec-error.js'

/** A key of a YAML mapping together with its value node, both kept for positions. */
export interface Entry {
  key: string
  keyNode: Node
  value: Node | null
}

/**
 * Reads typed values out of YAML nodes, recording a positioned problem for each value
 * of the wrong shape instead of stopping at the first, so the user sees every error at once.
 */
export class YamlReader {
  readonly problems: SpecProblem[] = []

  constructor(
    readonly file: string,
    private readonly lines: LineCounter
  ) {}

  position(node: Node | null | undefined): SourcePosition {
    const offset = node?.range?.[0] ?? 0
    const { line, col } = this.lines.linePos(offset)
    return { file: this.file, line, col }
  }

  fail(node: Node | null | undefined, message: string): undefined {
    this.problems.push({ ...this.position(node), message })
    return undefined
  }

  /** The entries of a mapping; keys outside `allowed` are reported with a suggestion. */
  entries(node: Node | null, what: string, allowed?: readonly string[]): Entry[] | undefined {
    if (!isMap(node)) return this.fail(node, `${what} must be a mapping`)
    const seen = new Set<string>()
    const out: Entry[] = []
    for (const pair of node.items as Pair<Node, Node | null>[]) {
      const keyNode = pair.key
      if (!isScalar(keyNode)) {
        this.fail(keyNode, `${what}: keys must be plain strings`)
        continue
      }
      const key = String(keyNode.value)
      if (seen.has(key)) this.fail(keyNode, `${what}: duplicate key '${key}'`)
      seen.add(key)
      if (allowed && !allowed.includes(key)) {
        const hint = closest(key, allowed)
        this.fail(
          keyNode,
          `${what}: unknown key '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}`
        )
        continue
      }
      out.push({ key, keyNode, value: pair.value })
    }
    return out
  }

  string(node: Node | null, what: string): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') return node.value
    return this.fail(node, `${what} must be a string`)
  }

  /** A scalar read as text: `cpu: 2` and `DEBUG: true` are as good as their quoted forms. */
  text(node: Node | null, what: string): string | undefined {
    if (isScalar(node) && ['string', 'number', 'boolean'].includes(typeof node.value)) {
      return String(node.value)
    }
    return this.fail(node, `${what} must be a string, number or boolean`)
  }

  boolean(node: Node | null, what: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value
    return this.fail(node, `${what} must be true or false`)
  }

  oneOf<T extends string>(node: Node | null, what: string, choices: readonly T[]): T | undefined {
    const value = this.string(node, what)
    if (value === undefined) return undefined
    if ((choices as readonly string[]).includes(value)) return value as T
    return this.fail(node, `${what} must be one of ${choices.join(', ')}; got '${value}'`)
  }

  sequence(node: Node | null, what: string): Node[] | undefined {
    if (isSeq(node)) return node.items as Node[]
    return this.fail(node, `${what} must be a list`)
  }

  /** A list of strings; a single string is taken as a one-item list. */
  stringList(node: Node | null, what: string): string[] | undefined {
    if (isScalar(node) && typeof node.value === 'string') return [node.value]
    const items = this.sequence(node, what)
    if (!items) return undefined
    const out = items.map((item) => this.text(item, `${what} item`))
    return out.every((s) => s !== undefined) ? (out as string[]) : undefined
  }

  /** A mapping of names to text values, as `environment:` and `env:` are. */
  textMap(node: Node | null, what: string): Record<string, string> | undefined {
    const entries = this.entries(node, what)
    if (!entries) return undefined
    const out: Record<string, string> = {}
    for (const { key, value } of entries) {
      const text = this.text(value, `${what}.${key}`)
      if (text !== undefined) out[key] = text
    }
    return out
  }
}

/** The allowed word nearest to a misspelt one, when it is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
    }
    previous = current
  }
  return previous[b.length]
}
