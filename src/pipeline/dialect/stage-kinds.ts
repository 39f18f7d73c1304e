import type { Node, YAMLMap } from 'yaml'
import type { Dialect } from './dialect-rules.js'
import { addPair, keysOf, pairOf, renameKey, scalarText } from './yaml-edits.js'

/**
 * The keys that make a stage without `type:` one that holds stages (or raises), as
 * ddeutil-workflow tells them apart; in the order they are looked for.
 */
const KIND_KEYS = [
  ['foreach', 'foreach'],
  ['parallel', 'parallel'],
  ['match', 'case'],
  ['until', 'until'],
  ['raise', 'raise']
] as const

/** ddeutil-workflow's stages that run other workflows or code: not run here. */
const NOT_YET: Record<string, string> = {
  trigger: "ddeutil's 'trigger' stage (it runs another workflow)",
  uses: "a 'uses:' stage (ddeutil calls a Python function registered with its @tag)",
  deps: "ddeutil's virtual Python stage (deps: installed into a fresh environment; install them in the job's image instead)"
}

/** What a stage's keys make of it, when it has no `type:`. */
export type StageKind =
  | { kind: 'typed'; warning?: string; at?: Node }
  | { kind: 'inferred' }
  | { kind: 'refused'; message: string; at: Node }

/**
 * Gives a stage without `type:` the one its keys name, as ddeutil-workflow tells its
 * stages apart: `bash:` is a bash script (renamed to `run:`), `run:` alone is Python in a
 * ddeutil workflow, `echo:`, `sleep:` or neither an empty stage. A GitHub user's
 * `- run: make` outside a ddeutil workflow would change meaning either way, so it is
 * refused and asked for its `type:`. A typed stage is left as written; in a ddeutil
 * workflow, a `type:` ddeutil would ignore gets a warning.
 */
export function classifyStage(stage: YAMLMap, dialect: Dialect): StageKind {
  const keys = keysOf(stage)
  const typePair = pairOf(stage, 'type')
  const bash = pairOf(stage, 'bash')
  const run = pairOf(stage, 'run')
  if (bash && run)
    return {
      kind: 'refused',
      at: bash.key as Node,
      message:
        "has both 'bash:' and 'run:'; keep one ('bash:' is a bash script, 'run:' the script of its 'type:')"
    }
  if (typePair) {
    const type = scalarText(typePair.value)
    if (bash) {
      if (type !== 'bash' && type !== 'sh')
        return {
          kind: 'refused',
          at: bash.key as Node,
          message: `has 'bash:' and 'type: ${type ?? ''}'; 'bash:' is a bash script: drop 'type:' or write 'run:'`
        }
      renameKey(bash, 'run')
    }
    if (dialect === 'ddeutil' && run && type !== 'py')
      return {
        kind: 'typed',
        at: typePair.key as Node,
        warning: `ddeutil-workflow ignores 'type: ${type ?? ''}' and runs 'run:' as Python; here it runs as ${type ?? ''}, as 'type:' says (write 'bash:' for a bash script in both)`
      }
    return { kind: 'typed' }
  }
  const kind = KIND_KEYS.find(([key]) => pairOf(stage, key))
  if (kind) {
    addPair(stage, 'type', kind[1], pairOf(stage, kind[0])!.key as Node)
    return { kind: 'inferred' }
  }
  const nested = keys.find((key) => key in NOT_YET)
  if (nested)
    return {
      kind: 'refused',
      at: pairOf(stage, nested)!.key as Node,
      message: `${NOT_YET[nested]} is not supported: a stage here is one of sh, bash, py, cmd, process, empty, foreach, until, parallel, case or raise`
    }
  if (bash) {
    renameKey(bash, 'run')
    addPair(stage, 'type', 'bash', bash.key as Node)
    return { kind: 'inferred' }
  }
  if (run) {
    if (dialect !== 'ddeutil')
      return {
        kind: 'refused',
        at: run.key as Node,
        message:
          "has 'run:' but no 'type:': write 'type: sh' or 'type: bash' for a shell script, 'type: py' for Python (only a file marked 'type: Workflow' reads a bare 'run:' as Python, as ddeutil-workflow does)"
      }
    addPair(stage, 'type', 'py', run.key as Node)
    return { kind: 'inferred' }
  }
  for (const [key, type] of [
    ['args', 'cmd'],
    ['process', 'process']
  ] as const)
    if (pairOf(stage, key))
      return {
        kind: 'refused',
        at: pairOf(stage, key)!.key as Node,
        message: `has '${key}:' but no 'type:': write 'type: ${type}'`
      }
  addPair(stage, 'type', 'empty', (pairOf(stage, 'name')?.key ?? stage) as Node)
  return { kind: 'inferred' }
}
