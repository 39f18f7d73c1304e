import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Pair,
  type YAMLMap
} from 'yaml'
import type { SourcePosition, FileProblem } from './file-problems.js'

/** A path into the document: map keys and list indexes, as JSON Schema instance paths are. */
export type DocPath = readonly (string | number)[]

/** `jobs.build.stages[0].run`: the path as a user would write it. */
export function describePath(path: DocPath): string {
  if (path.length === 0) return 'the pipeline'
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

/** The parser's first line, except where it names its own API instead of the user's fix. */
function syntaxMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return "a pipeline file holds one YAML document: remove this '---'"
  return message.split('\n')[0]
}

/**
 * A parsed YAML file that keeps its text and node ranges, so that any problem found
 * later (by the schema, by cross-checks, in an expression) can be pointed at the exact
 * line and column of the key or value it is about.
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly text: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    /** Where paths start: the document, or one workflow of a file that holds several. */
    readonly root: Node | null = doc.contents
  ) {}

  /** The same file seen from the node at `path`: paths then start there. */
  within(path: DocPath): YamlSource {
    return new YamlSource(this.file, this.text, this.doc, this.lines, this.nodeAt(path) ?? null)
  }

  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>()

  /** Parses `text`; syntax errors and duplicate keys come back as positioned problems. */
  static parse(text: string, file: string): { source: YamlSource; problems: FileProblem[] } {
    const lines = new LineCounter()
    // Duplicate keys are found by our own walk, which can say where the first one was.
    // Merge keys (`<<: *defaults`) are read as Compose files use them.
    const doc = parseDocument(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: false,
      merge: true
    })
    const source = new YamlSource(file, text, doc, lines)
    // Without prettyErrors the parser leaves `linePos` unset: `pos` is the offset to map.
    const problems: FileProblem[] = doc.errors.map((e) => ({
      ...source.offsetPosition(e.pos[0]),
      message: `YAML syntax error: ${syntaxMessage(e.code, e.message)}`
    }))
    if (problems.length === 0) problems.push(...source.aliasProblems())
    // Duplicate keys, and keys that cannot become plain data.
    if (problems.length === 0) problems.push(...source.duplicateKeys(doc.contents, []))
    return { source, problems }
  }

  /** The document as plain data (later duplicate keys win, but they are reported). */
  toJS(): unknown {
    if (this.root === this.doc.contents) return this.doc.toJS({ maxAliasCount: 1000 })
    return this.root?.toJS(this.doc, { maxAliasCount: 1000 }) ?? null
  }

  /** An alias (`*name`) without an anchor before it cannot be turned into data. */
  private aliasProblems(): FileProblem[] {
    const problems: FileProblem[] = []
    visit(this.doc, {
      Alias: (_key, alias) => {
        if (alias.resolve(this.doc) === undefined)
          problems.push({
            ...this.at(alias),
            message: `YAML syntax error: alias '*${alias.source}' has no anchor '&${alias.source}' before it`
          })
      }
    })
    return problems
  }

  /** Where the value at `path` starts; the nearest existing ancestor if it is missing. */
  valuePosition(path: DocPath): SourcePosition {
    return this.at(this.nearest(path).node)
  }

  /**
   * Where the key of the entry at `path` is (`enviroment:` in a misspelt key); the value
   * for list items, which have no key.
   */
  keyPosition(path: DocPath): SourcePosition {
    const { node, depth } = this.nearest(path)
    if (depth === path.length && path.length > 0) {
      const parent = this.nodeAt(path.slice(0, -1))
      const last = path[path.length - 1]
      if (isMap(parent)) {
        const pair = this.pairOf(parent, last)
        if (pair) return this.at(pair.key as Node)
      }
    }
    return this.at(node)
  }

  /**
   * Finds parts of the value at `path` in its source, in order: each call returns where
   * `needle` first appears after the part found before, so an expression inside a block
   * scalar is pointed at on its own line and a repeated one at its own place. Falls back
   * to the value's start where the source writes it otherwise (escapes in a quoted string).
   */
  textLocator(path: DocPath): (needle: string) => SourcePosition {
    const range = this.nodeAt(path)?.range
    const text = range ? this.text.slice(range[0], range[1]) : ''
    let from = 0
    return (needle) => {
      const index = range ? text.indexOf(needle, from) : -1
      if (index < 0) return this.valuePosition(path)
      from = index + needle.length
      return this.offsetPosition(range![0] + index)
    }
  }

  /** Keys compare as text: a path from JSON Pointer says 8080 where YAML has '8080'. */
  private nodeAt(path: DocPath): Node | null | undefined {
    let node: unknown = this.root
    for (const segment of path) {
      if (isMap(node)) {
        node = this.pairOf(node, segment)?.value
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment]
      } else return undefined
    }
    return node as Node | null | undefined
  }

  /**
   * The first entry with this key: looked up in an index built once per map, because
   * every position asked for walks from the top and `jobs:` can hold tens of thousands.
   */
  private pairOf(map: YAMLMap, key: string | number): Pair | undefined {
    let index = this.keyIndex.get(map)
    if (!index) {
      index = new Map()
      const merged: YAMLMap[] = []
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue
        if (isMergeKey(pair.key)) merged.push(...this.mergeSources(pair.value))
        else {
          const text = String(pair.key.value)
          if (!index.has(text)) index.set(text, pair)
        }
      }
      // A key the map writes itself wins over a merged one, as in the data; a merged one
      // points at where its anchor's map wrote it.
      for (const source of merged)
        for (const pair of source.items) {
          const text = isScalar(pair.key) ? String(pair.key.value) : undefined
          if (text !== undefined && !index.has(text)) index.set(text, pair)
        }
      this.keyIndex.set(map, index)
    }
    return index.get(String(key))
  }

  /** The maps a merge key's value names: `*a` or `[*a, *b]`. */
  private mergeSources(value: unknown): YAMLMap[] {
    const items = isSeq(value) ? value.items : [value]
    return items.flatMap((item) => {
      const node = isAlias(item) ? item.resolve(this.doc) : item
      return isMap(node) ? [node] : []
    })
  }

  private nearest(path: DocPath): { node: Node | null | undefined; depth: number } {
    for (let depth = path.length; depth > 0; depth--) {
      const node = this.nodeAt(path.slice(0, depth))
      if (node) return { node, depth }
    }
    return { node: this.root, depth: 0 }
  }

  /** Where a node of this file starts (the root's start when it has no range). */
  nodePosition(node: Node | null | undefined): SourcePosition {
    return this.at(node ?? this.root)
  }

  private at(node: Node | null | undefined): SourcePosition {
    return this.offsetPosition(node?.range?.[0] ?? 0)
  }

  private offsetPosition(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset)
    return { file: this.file, line, col }
  }

  private duplicateKeys(node: unknown, path: (string | number)[]): FileProblem[] {
    const problems: FileProblem[] = []
    if (isMap(node)) {
      const seen = new Map<string, Node>()
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined
        if (key === undefined || isMergeKey(pair.key)) continue
        const first = seen.get(key)
        if (key === '__proto__') {
          // Plain data would get it as its prototype, not as an entry: nothing could read it.
          problems.push({
            ...this.at(pair.key as Node),
            message: `'__proto__' cannot be a key (it is the prototype of every object in JavaScript); rename it`
          })
        } else if (first) {
          const what = path.length === 1 && path[0] === 'jobs' ? 'job id' : 'key'
          problems.push({
            ...this.at(pair.key as Node),
            message: `duplicate ${what} '${key}' (first at line ${this.at(first).line})`
          })
        } else seen.set(key, pair.key as Node)
        problems.push(...this.duplicateKeys(pair.value, [...path, key]))
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => problems.push(...this.duplicateKeys(item, [...path, i])))
    }
    return problems
  }
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol'
}
