import { analyse, parseExpression } from '../../pipeline/expression.js'
import type { JobSpec, MatrixRow } from '../../pipeline/pipeline-types.js'
import { conditionSource, parseTemplate } from '../../pipeline/template.js'
import { ExportRenderError } from './export-render.js'
import { placeholder } from './placeholders.js'

/**
 * How a target fans a job out over a list an upstream job output holds (Argo's
 * `withParam`): the output, and what each instance's matrix is made of it.
 */
export interface FanOut {
  need: { job: string; key: string }
  /** The row fields the job reads (`{{ matrix.KEY }}`); null when each item is one axis's value. */
  fields: string[] | null
  /** The instance's matrix: each value the target's reference to the item (item placeholders). */
  matrix: MatrixRow
}

const FROM_JSON_NEEDS =
  /^\s*\$?\{\{\s*fromJSON\(\s*needs\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)\s*\)\s*\}\}\s*$/

/**
 * The fan-out of a job whose matrix is made of an upstream output, in the forms a target
 * can fan out over: one axis (`KEY: '{{ fromJSON(needs.JOB.outputs.OUT) }}'`, each item
 * that axis's value), or `include:` or the whole matrix as such an expression (each item a
 * row). The job may read the matrix only as it is (`{{ matrix.KEY }}`): what would compute
 * on a value known only in the cluster's run is an ExportRenderError, as is any other form.
 */
export function fanOutOf(job: JobSpec, target: string): FanOut {
  const matrix = job.strategy!.matrix!
  const axes = Object.entries(matrix.axes)
  const noRows = (rows: unknown) => Array.isArray(rows) && rows.length === 0
  let text: string | undefined
  let axis: string | undefined
  if (matrix.whole !== undefined) text = matrix.whole
  else if (axes.length === 1 && typeof axes[0][1] === 'string' && noRows(matrix.include)) {
    ;[axis, text] = axes[0] as [string, string]
  } else if (axes.length === 0 && typeof matrix.include === 'string') text = matrix.include
  const found = text !== undefined && noRows(matrix.exclude) ? FROM_JSON_NEEDS.exec(text) : null
  if (!found)
    throw new ExportRenderError(
      `${target} fans a job out over one upstream output that is a JSON list: write the matrix as KEY: '{{ fromJSON(needs.JOB.outputs.OUT) }}' (a list of values), or include: (or the whole matrix) as '{{ fromJSON(needs.JOB.outputs.OUT) }}' (a list of rows), with nothing else`
    )
  const reads = matrixReads(job)
  const computed = reads.find((r) => r.computed)
  if (computed)
    throw new ExportRenderError(
      `'${computed.text}' computes on a matrix value that is known only once '${found[1]}' ran in the cluster; an export takes it only on its own, as '{{ matrix.KEY }}'`
    )
  const fields = [...new Set(reads.flatMap((r) => (r.field ? [r.field] : [])))]
  return {
    need: { job: found[1], key: found[2] },
    fields: axis === undefined ? fields : null,
    matrix:
      axis === undefined
        ? Object.fromEntries(fields.map((f) => [f, placeholder({ kind: 'item', key: f })]))
        : { [axis]: placeholder({ kind: 'item', key: '' }) }
  }
}

/** Each place a job's values read `matrix`: the field, or that it computes on it. */
function matrixReads(job: JobSpec): Array<{ text: string; field?: string; computed: boolean }> {
  const reads: Array<{ text: string; field?: string; computed: boolean }> = []
  const conditions = [job.if, ...(job.stages ?? []).map((s) => s.if)]
  for (const condition of conditions)
    if (typeof condition === 'string' && readsMatrix(parseExpression(conditionSource(condition))))
      reads.push({ text: condition, computed: true })
  for (const text of stringsIn({
    ...job,
    if: undefined,
    stages: job.stages?.map((s) => ({ ...s, if: undefined }))
  })) {
    if (!text.includes('{{')) continue
    for (const segment of parseTemplate(text))
      if (segment.kind === 'expression' && readsMatrix(segment.expr)) {
        const bare = /^matrix\.([A-Za-z_][\w-]*)$/.exec(segment.source)
        reads.push(
          bare && segment.filters.length === 0
            ? { text: segment.text, field: bare[1], computed: false }
            : { text: segment.text, computed: true }
        )
      }
  }
  return reads
}

function readsMatrix(expr: Parameters<typeof analyse>[0]): boolean {
  return analyse(expr).references.some((r) => r.path[0] === 'matrix')
}

/** Every string in a value, at any depth. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(stringsIn)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn)
  return []
}
