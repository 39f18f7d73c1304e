import { analyse, evaluate, parseExpression, truthy } from '../../pipeline/expression.js'
import type { ExpressionScope } from '../../pipeline/expression.js'
import type { Condition } from '../../pipeline/pipeline-types.js'
import { conditionSource, parseTemplate, pythonCondition } from '../../pipeline/template.js'
import { ExportRenderError } from './export-render.js'

/**
 * When a job (or stage) of an export runs, by how the ones before it went: the two cases
 * an orchestrator tells apart. `{onSuccess: true, onFailure: false}` is the default;
 * `always()` runs in both; `failure()` only after a failure; a condition false in both
 * never runs.
 */
export interface RunsWhen {
  onSuccess: boolean
  onFailure: boolean
}

/**
 * Decides an `if:` at export time: params and matrix values are known, and the status
 * functions are tried both ways, so any condition over them becomes a RunsWhen. One that
 * reads `needs`, `stages` or `run_id` depends on the run: an ExportRenderError.
 */
export function runsWhen(
  condition: Condition | undefined,
  scope: ExpressionScope,
  python = false
): RunsWhen {
  if (condition === undefined) return { onSuccess: true, onFailure: false }
  if (typeof condition === 'boolean') return { onSuccess: condition, onFailure: false }
  if (python) return { onSuccess: exportPythonCondition(condition, scope), onFailure: false }
  const expr = parseExpression(conditionSource(condition))
  const late = analyse(expr).references.find((r) =>
    ['needs', 'stages', 'run_id'].includes(r.path[0])
  )
  if (late)
    throw new ExportRenderError(
      `if: '${condition}' reads ${late.path.join('.')}, which is only known while the pipeline runs; an export decides if: from params, matrix values and success(), failure(), always()`
    )
  const outcome = (success: boolean) =>
    truthy(evaluate(expr, scope, { success, failure: !success, cancelled: false }))
  return { onSuccess: outcome(true), onFailure: outcome(false) }
}

/**
 * A ddeutil workflow's `if:`, decided at export time: its templates may read params and
 * matrix values only (the rest is the run's), and the rendered text is read as Python.
 */
function exportPythonCondition(condition: string, scope: ExpressionScope): boolean {
  const late = parseTemplate(condition, { variables: 'ddeutil' }).find(
    (s) =>
      s.kind === 'variable' ||
      (s.kind === 'expression' &&
        analyse(s.expr).references.some((r) => ['needs', 'stages', 'run_id'].includes(r.path[0])))
  )
  if (late)
    throw new ExportRenderError(
      `if: '${condition}' reads what is only known while the pipeline runs; an export decides a ddeutil if: from params and matrix values`
    )
  return pythonCondition(condition, scope)
}
