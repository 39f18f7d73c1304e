import { stringify } from '../../pipeline/template.js'
import type { ExportPlan } from '../shared/export-plan.js'
import { placeholdersIn, splitPlaceholders, type Placeholder } from '../shared/placeholders.js'
import { ExportProblem } from '../shared/pod-parts.js'
import { py } from './python-code.js'

/** A Jinja expression, or text the export already knows. */
export type Reference = { jinja: string } | { text: string }

export function reference(plan: ExportPlan, matrixJobs: ReadonlySet<string>) {
  return (p: Placeholder): Reference => {
    switch (p.kind) {
      case 'needs':
        if (matrixJobs.has(p.job))
          throw new ExportProblem(
            `needs.${p.job}.outputs.${p.key}: a matrix job's outputs (a list of every instance's) are not exported to Airflow yet`
          )
        return { jinja: `ti.xcom_pull(task_ids=${py(p.job)})[${py(p.key)}]` }
      case 'param':
        // Jinja writes True and ['a'] where a run writes true and ["a"]: only strings go as they are.
        return typeof plan.params[p.name] === 'string'
          ? { jinja: `params[${py(p.name)}]` }
          : { text: stringify(plan.params[p.name]) }
      case 'run_id':
        return { jinja: 'run_id' }
      case 'secret':
        // DockerOperator: an Airflow Variable of the same name (kept out of logs by Airflow
        // when its name says it is secret; see the README).
        return { jinja: `var.value[${py(p.name)}]` }
      case 'item':
        // exportPlan refuses a matrix made of outputs for Airflow before it gets here.
        throw new ExportProblem('a matrix made of upstream outputs is not exported to Airflow yet')
    }
  }
}

/**
 * A value for a field Airflow renders with Jinja: references become `{{ ... }}`, and any
 * text that Jinja would read (`{{`, `{%`, `{#`, as in sh's `${#x}`) goes in `{% raw %}`.
 */
export function jinja(text: string, refer: (p: Placeholder) => Reference): string {
  const parts: string[] = []
  let literal = ''
  const flush = () => {
    if (/\{[{%#]/.test(literal) || literal.endsWith('{'))
      parts.push(`{% raw %}${literal}{% endraw %}`)
    else parts.push(literal)
    literal = ''
  }
  for (const piece of splitPlaceholders(text)) {
    if (typeof piece === 'string') {
      literal += piece
      continue
    }
    const ref = refer(piece)
    if ('text' in ref) literal += ref.text
    else {
      flush()
      parts.push(`{{ ${ref.jinja} }}`)
    }
  }
  flush()
  return parts.join('')
}

/** A value for a field Airflow does not render: one holding a reference is an error. */
export function plain(text: string, field: string): string {
  if (placeholdersIn(text).length > 0)
    throw new ExportProblem(
      `${field}: Airflow does not render this field, so it cannot take a needs output, a param or the run id`
    )
  return text
}
