import { isMap, isScalar, Pair, Scalar, YAMLMap, type Node } from 'yaml'

/** The entry of `map` whose key is `key`, if any. */
export function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key)
}

/** The keys a map writes, as text. */
export function keysOf(map: YAMLMap): string[] {
  return map.items.flatMap((pair) => (isScalar(pair.key) ? [String(pair.key.value)] : []))
}

/** The map at `key` of `map`, if its value is one. */
export function mapAt(map: unknown, key: string): YAMLMap | undefined {
  if (!isMap(map)) return undefined
  const value = pairOf(map, key)?.value
  return isMap(value) ? value : undefined
}

/**
 * Renames a key in place: the entry keeps its range, so every problem later found about it
 * points where the user wrote the other spelling.
 */
export function renameKey(pair: Pair, to: string): void {
  ;(pair.key as Scalar).value = to
}

/** Adds `key: value`, placed (for messages) where `at` was written. */
export function addPair(map: YAMLMap, key: string, value: unknown, at: Node): void {
  const keyNode = new Scalar(key)
  const valueNode = new Scalar(value)
  keyNode.range = valueNode.range = at.range
  map.items.push(new Pair(keyNode, valueNode))
}

/**
 * A map node of plain values (maps nest), every node placed (for messages) where `at` was
 * written: what the file implies rather than writes.
 */
export function mapNode(entries: Record<string, unknown>, at: Node): YAMLMap {
  const map = new YAMLMap()
  map.range = at.range
  for (const [key, value] of Object.entries(entries)) {
    const keyNode = new Scalar(key)
    keyNode.range = at.range
    let valueNode: Node
    if (value !== null && typeof value === 'object')
      valueNode = mapNode(value as Record<string, unknown>, at)
    else {
      valueNode = new Scalar(value)
      valueNode.range = at.range
    }
    map.items.push(new Pair(keyNode, valueNode))
  }
  return map
}

/** Sets `key` to `value`, adding the entry where it is missing. */
export function setPair(map: YAMLMap, key: string, value: Node, at: Node): void {
  const pair = pairOf(map, key)
  if (pair) pair.value = value
  else {
    const keyNode = new Scalar(key)
    keyNode.range = at.range
    map.items.push(new Pair(keyNode, value))
  }
}

/** A scalar's text, if the node is one. */
export function scalarText(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined
}
