import { isMap, isScalar, type YAMLMap } from 'yaml'
import type { FileProblem } from '../file-problems.js'
import type { YamlSource } from '../yaml-source.js'

/**
 * The workflows a file holds. A file in the page's form (top-level `jobs:`) is one,
 * unnamed; a file in ddeutil-workflow's keyed layout (`NAME: {type: Workflow, jobs, ...}`)
 * holds one per such key, in file order.
 */
export function workflowNames(source: YamlSource): string[] {
  const root = source.root
  if (!isMap(root) || keyOf(root, 'jobs') !== undefined) return []
  return root.items.flatMap((pair) => {
    const value = pair.value
    if (!isScalar(pair.key) || !isMap(value)) return []
    const type = keyOf(value, 'type')
    return isScalar(type) && type.value === 'Workflow' ? [String(pair.key.value)] : []
  })
}

function keyOf(map: YAMLMap, key: string): unknown {
  return map.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.value
}

/** One workflow of a file, seen from its own map; `name` is its key in the keyed layout. */
export interface SelectedWorkflow {
  source: YamlSource
  name?: string
}

/**
 * The workflow a command works on: the file itself in the page's form, else the one
 * `wanted` names, or the only one. A file holding several with none named, or a name
 * it does not hold, is a problem listing the names (the command line is then invalid).
 */
export function selectWorkflow(
  source: YamlSource,
  wanted: string | undefined,
  flag = '--workflow'
): SelectedWorkflow | FileProblem {
  const names = workflowNames(source)
  const at = { file: source.file, line: 1, col: 1 }
  if (names.length === 0) {
    if (wanted === undefined) return { source }
    return {
      ...at,
      message: `${flag} ${wanted}: this file is one workflow (top-level 'jobs:'), not several named ones; leave out ${flag}`
    }
  }
  const name = wanted ?? (names.length === 1 ? names[0] : undefined)
  if (name === undefined)
    return {
      ...at,
      message: `this file holds ${names.length} workflows (${names.join(', ')}): name one with ${flag} NAME`
    }
  if (!names.includes(name))
    return {
      ...at,
      message: `${flag} ${name}: this file holds no workflow '${name}' (it holds: ${names.join(', ')})`
    }
  return { source: source.within([name]), name }
}
