import type { StageSpec } from './pipeline-types.js'
import { isRecord, list, record } from './raw-values.js'
import type { DocPath } from './yaml-source.js'

/** A stage's keys that hold templates rendered as its script is (`until:` is a condition). */
export const STAGE_TEMPLATE_KEYS = [
  'run',
  'echo',
  'args',
  'vars',
  'raise',
  'foreach',
  'case',
  'item'
]

/**
 * The lists of stages a stage holds, as written in the file, each with its path below the
 * stage: `stages` of a foreach or until, `parallel.BRANCH`, `match[i].stages` or
 * `match[i].else` of a case. In the order innerStages gives them.
 */
export function innerStageLists(raw: unknown): Array<[DocPath, unknown[]]> {
  const stage = record(raw)
  const lists: Array<[DocPath, unknown[]]> = []
  if (Array.isArray(stage.stages)) lists.push([['stages'], stage.stages])
  for (const [name, stages] of Object.entries(record(stage.parallel)))
    lists.push([['parallel', name], list(stages)])
  list(stage.match).forEach((entry, i) => {
    if (!isRecord(entry)) return
    const key = 'else' in entry ? 'else' : 'stages'
    lists.push([['match', i, key], list(entry[key])])
  })
  return lists
}

/** The lists of stages a stage holds (see NestedStage), each in the file's order. */
export function innerStages(stage: StageSpec): StageSpec[][] {
  const nested = stage.nested
  switch (nested?.type) {
    case 'foreach':
    case 'until':
      return [nested.stages]
    case 'parallel':
      return nested.branches.map((b) => b.stages)
    case 'case':
      return nested.match.map((m) => m.stages)
    default:
      return []
  }
}

/**
 * Every stage of a list and, depth first, every stage each holds, with where it is below
 * the list: `[0]`, `[2].stages[1]`, `[3].parallel.left[0]`, `[4].match[1][0]`.
 */
export function allStages(stages: readonly StageSpec[], at = ''): Array<[string, StageSpec]> {
  return stages.flatMap((stage, i) => {
    const here = `${at}[${i}]`
    const nested = stage.nested
    const inner =
      nested?.type === 'parallel'
        ? nested.branches.map((b) => allStages(b.stages, `${here}.parallel.${b.name}`))
        : nested?.type === 'case'
          ? nested.match.map((m, n) => allStages(m.stages, `${here}.match[${n}]`))
          : innerStages(stage).map((list) => allStages(list, `${here}.stages`))
    return [[here, stage] as [string, StageSpec], ...inner.flat()]
  })
}

/** `a sh`, `an until`: a kind of stage with its article, for messages. */
export function withArticle(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`
}
