import { analyse, type ExpressionScope } from '../../pipeline/expression.js'
import {
  evaluateSegment,
  parseTemplate,
  stringify,
  type VariableSyntax
} from '../../pipeline/template.js'
import { placeholder } from './placeholders.js'

/** A template an export cannot turn into a value or a target's reference. */
export class ExportRenderError extends Error {
  override name = 'ExportRenderError'
}

export interface ExportRenderOptions {
  /** Read `${VAR}`: each becomes a secret placeholder (its value never reaches the export). */
  variables?: VariableSyntax
  /** A bare `{{ params.X }}` becomes a param placeholder, so the target may take it at submit. */
  paramsAtSubmit?: boolean
}

const NEEDS_OUTPUT = /^needs\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)$/
const PARAM = /^params\.([A-Za-z_][\w-]*)$/
/** Contexts an export has no value for: only the target's run knows them. */
export const CLUSTER_CONTEXTS: ReadonlySet<string> = new Set(['needs', 'stages', 'run_id'])

/**
 * Renders a template for an export: what the file and the params fix is rendered now;
 * a bare `{{ needs.JOB.outputs.KEY }}` or `{{ run_id }}` becomes a placeholder the target
 * replaces with its own reference. Any other use of `needs`, `stages` or `run_id` has no
 * value yet and no reference either: an ExportRenderError quoting it.
 */
export function renderForExport(
  text: string,
  scope: ExpressionScope,
  options: ExportRenderOptions = {}
): string {
  if (!text.includes('{{') && !(options.variables && text.includes('$'))) return text
  let out = ''
  for (const segment of parseTemplate(text, { variables: options.variables })) {
    if (segment.kind === 'text') out += segment.text
    else if (segment.kind === 'variable') out += placeholder({ kind: 'secret', name: segment.name })
    else {
      const bare = segment.filters.length === 0
      const needs = bare ? NEEDS_OUTPUT.exec(segment.source) : null
      const param = bare ? PARAM.exec(segment.source) : null
      if (needs) out += placeholder({ kind: 'needs', job: needs[1], key: needs[2] })
      else if (bare && segment.source === 'run_id') out += placeholder({ kind: 'run_id' })
      else if (param && options.paramsAtSubmit)
        out += placeholder({ kind: 'param', name: param[1] })
      else if (analyse(segment.expr).references.some((r) => CLUSTER_CONTEXTS.has(r.path[0])))
        throw new ExportRenderError(
          `'${segment.text}' reads what is only known while the pipeline runs; an export takes needs.JOB.outputs.KEY and run_id only on their own (no filters), as '{{ needs.JOB.outputs.KEY }}'`
        )
      else out += stringify(evaluateSegment(segment, scope))
    }
  }
  return out
}
