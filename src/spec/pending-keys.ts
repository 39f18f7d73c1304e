import { isRecord } from './raw-values.js'
import { inFileOrder, type SpecProblem } from './spec-error.js'
import { describePath, type DocPath, type YamlSource } from './yaml-source.js'

/**
 * Keys the schema accepts (they are part of the file format) but that this version's
 * engine does not act on yet. `run` refuses a file that uses them rather than silently
 * ignoring them; `validate` and `plan` accept them.
 */
const PENDING: readonly DocPath[] = [
  ['jobs', '*', 'services'],
  ['jobs', '*', 'allow_host_access']
]

/** Problems for each key of the file that the engine cannot run yet, at the key. */
export function pendingKeys(raw: unknown, source: YamlSource): SpecProblem[] {
  const found: (string | number)[][] = []
  for (const pattern of PENDING) collect(raw, pattern, [], found)
  return inFileOrder(
    found.map((path) => ({
      ...source.keyPosition(path),
      message: `${describePath(path)}: this version of ctr-pipeline validates this key but cannot run it yet`
    }))
  )
}

function collect(
  value: unknown,
  pattern: DocPath,
  at: (string | number)[],
  out: (string | number)[][]
) {
  if (pattern.length === 0) {
    out.push(at)
    return
  }
  const [head, ...rest] = pattern
  if (Array.isArray(value)) {
    if (head === '*') value.forEach((v, i) => collect(v, rest, [...at, i], out))
  } else if (isRecord(value)) {
    const keys =
      head === '*' ? Object.keys(value) : Object.hasOwn(value, head) ? [String(head)] : []
    for (const key of keys) collect(value[key], rest, [...at, key], out)
  }
}
