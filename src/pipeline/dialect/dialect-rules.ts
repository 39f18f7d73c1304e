import type { VariableSyntax } from '../template.js'

/**
 * Whose meaning a file's spellings have: `ddeutil` for a file marked `type: Workflow`
 * (ddeutil-workflow's own), `ctr` for the rest (the page's form, GitHub users' habits).
 * They differ only where ddeutil's engine and the page disagree (see the README's
 * "Coming from ddeutil-workflow").
 */
export type Dialect = 'ctr' | 'ddeutil'

/**
 * How a value reads `${VAR}`: in the page's form only values handed to the engine do (a
 * script's `${VAR}` is the shell's); in a ddeutil workflow every value does, with ddeutil's
 * loader's rule (`$$` is `$`), as its `pass_env` substitutes scripts too.
 */
export function variableSyntax(dialect: Dialect, place: 'container' | 'script'): VariableSyntax {
  if (dialect === 'ddeutil') return 'ddeutil'
  return place === 'container'
}

/** What an unset `${VAR}` reads as: '' here, `null` in ddeutil (its loader's default). */
export function missingVariable(dialect: Dialect): string {
  return dialect === 'ddeutil' ? 'null' : ''
}
