import { ExpressionError } from './expression.js'
import { list, record } from './raw-values.js'
import { parseTemplate } from './template.js'

/**
 * The names of the `${VAR}`s a pipeline hands to its containers (in `runs-on.with`,
 * `services` and stage `env`), in file order without repeats: what the run reads from
 * its environment, and so what it must treat as secret. Scripts are left out, since
 * `${VAR}` there is the shell's own.
 */
export function referencedVariables(raw: unknown): string[] {
  const names = new Set<string>()
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit)
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit)
    else if (typeof value === 'string' && value.includes('${')) {
      try {
        for (const segment of parseTemplate(value, { variables: true }))
          if (segment.kind === 'variable') names.add(segment.name)
      } catch (error) {
        // Validation reports a malformed template at its line; nothing to collect here.
        if (!(error instanceof ExpressionError)) throw error
      }
    }
  }
  for (const job of Object.values(record(record(raw).jobs))) {
    const spec = record(job)
    visit(record(spec['runs-on']).with)
    visit(spec.services)
    for (const stage of list(spec.stages)) visit(record(stage).env)
  }
  return [...names]
}
