import { isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, type Node, type YAMLSeq } from 'yaml'
import type { FileProblem } from '../file-problems.js'
import { describePath, type DocPath, type YamlSource } from '../yaml-source.js'
import type { Dialect } from './dialect-rules.js'
import { classifyStage } from './stage-kinds.js'
import { mapAt, mapNode, pairOf, renameKey, scalarText, setPair } from './yaml-edits.js'

/** What rewriting a file's spellings found. */
export interface DialectResult {
  dialect: Dialect
  problems: FileProblem[]
  warnings: FileProblem[]
  /** Parts already reported here: the schema's messages about them would only repeat it. */
  silenced: DocPath[]
}

/** What the command line adds to what the file says. */
export interface DialectOptions {
  /**
   * The image for jobs without `runs-on` (ddeutil-workflow runs them on its own machine,
   * its `local` runner; here every job runs in a container): `--default-image`.
   */
  defaultImage?: string
}

/** Other spellings of the same key, with the one this format writes. */
const SPELLINGS: Array<[string, string]> = [
  ['max-parallel', 'max_parallel'],
  ['fail-fast', 'fail_fast']
]

/**
 * Rewrites a workflow's map, in place, into the spellings the rest of the loader reads:
 * ddeutil-workflow's and GitHub's (`bash:` stages, stages without `type:`, `max-parallel`,
 * `fail-fast`, `include`/`exclude` beside `matrix:`, `continue-on-error`, params written
 * as their type alone). Each rewritten entry keeps the range it was written at, so later
 * problems point at the user's own spelling.
 */
export function rewriteDialect(source: YamlSource, options: DialectOptions = {}): DialectResult {
  const root = source.root
  const result: DialectResult = { dialect: 'ctr', problems: [], warnings: [], silenced: [] }
  if (!isMap(root)) return result
  if (scalarText(pairOf(root, 'type')?.value) === 'Workflow') result.dialect = 'ddeutil'
  const position = (node: Node | null | undefined) => source.nodePosition(node)
  rewriteParams(mapAt(root, 'params'))
  const jobs = mapAt(root, 'jobs')
  for (const pair of jobs?.items ?? []) {
    if (!isScalar(pair.key) || !isMap(pair.value)) continue
    const id = String(pair.key.value)
    const job = pair.value
    rewriteRunsOn(job, pair.key as Node, id, options, result, position)
    rewriteSpelling(job, ['jobs', id], ['trigger-rule', 'trigger_rule'], result, position)
    const strategy = mapAt(job, 'strategy')
    if (strategy) rewriteStrategy(strategy, ['jobs', id, 'strategy'], result, position)
    const stages = pairOf(job, 'stages')?.value
    if (isSeq(stages)) rewriteStages(stages, ['jobs', id, 'stages'], result, position)
  }
  return result
}

/** The spellings of stage keys: GitHub's and ddeutil's, then this format's. */
const STAGE_SPELLINGS: Array<[string, string]> = [
  ['max-loop', 'max_loop'],
  ['max-workers', 'max_workers'],
  ['skip-not-match', 'skip_not_match']
]

/** Gives each stage of a list its kind and this format's spellings, and so the stages it holds. */
function rewriteStages(
  stages: YAMLSeq,
  at: DocPath,
  result: DialectResult,
  position: (node: Node | null | undefined) => FileProblem | Omit<FileProblem, 'message'>
): void {
  stages.items.forEach((stage, i) => {
    if (!isMap(stage)) return
    const stageAt: DocPath = [...at, i]
    const continueOn = pairOf(stage, 'continue-on-error')
    if (continueOn && !pairOf(stage, 'continue_on_error'))
      renameKey(continueOn, 'continue_on_error')
    for (const spelling of STAGE_SPELLINGS)
      rewriteSpelling(stage, stageAt, spelling, result, position)
    const kind = classifyStage(stage, result.dialect)
    const report = (list: FileProblem[], node: Node | null | undefined, message: string) =>
      list.push({ ...position(node), message: `${describePath(stageAt)}: ${message}` })
    if (kind.kind === 'refused') {
      report(result.problems, kind.at, kind.message)
      result.silenced.push(stageAt)
      return
    }
    if (kind.kind === 'typed' && kind.warning) report(result.warnings, kind.at, kind.warning)
    for (const [path, inner] of innerStageNodes(stage))
      rewriteStages(inner, [...stageAt, ...path], result, position)
  })
}

/** The lists of stages a stage's node holds, as innerStageLists finds them in values. */
function innerStageNodes(stage: YAMLMap): Array<[DocPath, YAMLSeq]> {
  const lists: Array<[DocPath, YAMLSeq]> = []
  const inner = pairOf(stage, 'stages')?.value
  if (isSeq(inner)) lists.push([['stages'], inner])
  const parallel = pairOf(stage, 'parallel')?.value
  if (isMap(parallel))
    for (const branch of parallel.items)
      if (isScalar(branch.key) && isSeq(branch.value))
        lists.push([['parallel', String(branch.key.value)], branch.value])
  const match = pairOf(stage, 'match')?.value
  if (isSeq(match))
    match.items.forEach((entry, i) => {
      if (!isMap(entry)) return
      for (const key of ['stages', 'else']) {
        const value = pairOf(entry, key)?.value
        if (isSeq(value)) lists.push([['match', i, key], value])
      }
    })
  return lists
}

/**
 * Renames GitHub's and ddeutil's spelling of a key (`max-parallel`) to this format's
 * (`max_parallel`); both at once is a problem. In a ddeutil workflow, the underscore
 * spelling gets a warning: ddeutil would ignore it.
 */
function rewriteSpelling(
  map: YAMLMap,
  at: DocPath,
  [other, own]: [string, string],
  result: DialectResult,
  position: (node: Node | null | undefined) => FileProblem | Omit<FileProblem, 'message'>
): void {
  const written = pairOf(map, other)
  const ownPair = pairOf(map, own)
  if (written && ownPair)
    result.problems.push({
      ...position(written.key as Node),
      message: `${describePath(at)}: '${other}' and '${own}' are the same setting; keep one`
    })
  else if (written) renameKey(written, own)
  else if (ownPair && result.dialect === 'ddeutil')
    result.warnings.push({
      ...position(ownPair.key as Node),
      message: `${describePath(at)}: ddeutil-workflow reads only '${other}' and would ignore '${own}'; it is used here (write '${other}' for both to agree)`
    })
}

/**
 * A job without `runs-on`, or on ddeutil's `local` runner, runs in `--default-image`; without
 * one, it is refused at its key rather than run somewhere the file did not say.
 */
function rewriteRunsOn(
  job: YAMLMap,
  jobKey: Node,
  id: string,
  options: DialectOptions,
  result: DialectResult,
  position: (node: Node | null | undefined) => FileProblem | Omit<FileProblem, 'message'>
): void {
  const runsOn = pairOf(job, 'runs-on')
  const runner = scalarText(runsOn?.value)
  if (runner !== undefined) {
    result.problems.push({
      ...position(runsOn!.value as Node),
      message: `jobs.${id}.runs-on: '${runner}' names a machine to run on, as GitHub Actions does; here a job runs in a container: runs-on: {type: container, with: {image: IMAGE}}`
    })
    result.silenced.push(['jobs', id, 'runs-on'])
    return
  }
  const type = scalarText(pairOf(mapAt(job, 'runs-on') ?? new YAMLMap(), 'type')?.value)
  if (runsOn && type !== 'local') return
  const at = (runsOn?.key ?? jobKey) as Node
  if (options.defaultImage !== undefined) {
    const container = { type: 'container', with: { image: options.defaultImage } }
    setPair(job, 'runs-on', mapNode(container, at), at)
    return
  }
  result.problems.push({
    ...position(runsOn ? at : jobKey),
    message: runsOn
      ? `jobs.${id}.runs-on: 'type: local' runs a job on ddeutil-workflow's own machine; here every job runs in a container: write {type: container, with: {image: IMAGE}}, or run with --default-image IMAGE`
      : `jobs.${id} has no 'runs-on:': every job runs in a container; give it runs-on: {type: container, with: {image: IMAGE}}, or run with --default-image IMAGE`
  })
  result.silenced.push(['jobs', id, 'runs-on'])
}

/** `name: str` is ddeutil's shorthand for `name: {type: str}`. */
function rewriteParams(params: YAMLMap | undefined): void {
  for (const pair of params?.items ?? []) {
    const type = scalarText(pair.value)
    if (type === undefined) continue
    const map = new YAMLMap()
    const typeKey = new Scalar('type')
    typeKey.range = (pair.value as Node).range
    map.items.push(new Pair(typeKey, pair.value))
    map.range = (pair.value as Node).range
    pair.value = map
  }
}

function rewriteStrategy(
  strategy: YAMLMap,
  at: DocPath,
  result: DialectResult,
  position: (node: Node | null | undefined) => FileProblem | Omit<FileProblem, 'message'>
): void {
  for (const spelling of SPELLINGS) rewriteSpelling(strategy, at, spelling, result, position)
  const matrix = mapAt(strategy, 'matrix')
  for (const key of ['include', 'exclude']) {
    const beside = pairOf(strategy, key)
    if (!beside) continue
    if (!matrix || pairOf(matrix, key))
      result.problems.push({
        ...position(beside.key as Node),
        message: matrix
          ? `${describePath(at)}: '${key}' is given both here and under 'matrix:'; keep one`
          : `${describePath(at)}: '${key}' needs a 'matrix:' beside it`
      })
    else {
      strategy.items.splice(strategy.items.indexOf(beside), 1)
      matrix.items.push(beside)
    }
  }
}
