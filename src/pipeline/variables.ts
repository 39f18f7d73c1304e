import { ExpressionError } from './expression.js'
import { list, record } from './raw-values.js'
import { parseTemplate } from './template.js'
import { innerStageLists, STAGE_TEMPLATE_KEYS } from './nested-stages.js'
import { variableSyntax, type Dialect } from './dialect/dialect-rules.js'
import type { DocPath } from './yaml-source.js'

/** One `${VAR}` in the file: the name it reads and the value it is in. */
export interface VariableUse {
  name: string
  at: DocPath
}

/**
 * Every `${VAR}` a pipeline reads from the run's environment, in file order, with the value
 * each is in: those it hands to its containers (in `runs-on.with`, `services`, and the
 * file's, jobs' and stages' `env`), and in a ddeutil workflow its scripts', `vars` and
 * `if:` too (elsewhere `${VAR}` in a script is the shell's own).
 */
export function variableUses(raw: unknown, dialect: Dialect = 'ctr'): VariableUse[] {
  const uses: VariableUse[] = []
  const visit = (
    value: unknown,
    at: DocPath,
    syntax = variableSyntax(dialect, 'container')
  ): void => {
    if (!syntax) return
    if (Array.isArray(value)) value.forEach((item, i) => visit(item, [...at, i], syntax))
    else if (value !== null && typeof value === 'object')
      Object.entries(value).forEach(([key, item]) => visit(item, [...at, key], syntax))
    else if (typeof value === 'string' && value.includes('${')) {
      try {
        for (const segment of parseTemplate(value, { variables: syntax }))
          if (segment.kind === 'variable') uses.push({ name: segment.name, at })
      } catch (error) {
        // Validation reports a malformed template at its line; nothing to collect here.
        if (!(error instanceof ExpressionError)) throw error
      }
    }
  }
  visit(record(raw).env, ['env'])
  for (const [id, job] of Object.entries(record(record(raw).jobs))) {
    const spec = record(job)
    visit(spec.env, ['jobs', id, 'env'])
    // A ddeutil workflow's `if:` is rendered with ddeutil's loader rule before it is read.
    visit(spec.if, ['jobs', id, 'if'], variableSyntax(dialect, 'script'))
    visit(record(spec['runs-on']).with, ['jobs', id, 'runs-on', 'with'])
    visit(spec.services, ['jobs', id, 'services'])
    const visitStages = (stages: unknown[], listAt: DocPath): void =>
      stages.forEach((stage, i) => {
        const at = [...listAt, i]
        visit(record(stage).env, [...at, 'env'])
        for (const key of [...STAGE_TEMPLATE_KEYS, 'until', 'if'])
          visit(record(stage)[key], [...at, key], variableSyntax(dialect, 'script'))
        list(record(stage).match).forEach((m, n) =>
          visit(record(m).case, [...at, 'match', n, 'case'], variableSyntax(dialect, 'script'))
        )
        for (const [path, inner] of innerStageLists(stage)) visitStages(inner, [...at, ...path])
      })
    visitStages(list(spec.stages), ['jobs', id, 'stages'])
  }
  return uses
}

/**
 * The names of the `${VAR}`s a pipeline hands to its containers, in file order without
 * repeats: what the run reads from its environment, and so what it must treat as secret.
 */
export function referencedVariables(raw: unknown, dialect: Dialect = 'ctr'): string[] {
  return variableNames(variableUses(raw, dialect))
}

/** The names of `uses`, in order, without repeats. */
export function variableNames(uses: readonly VariableUse[]): string[] {
  return [...new Set(uses.map((use) => use.name))]
}
