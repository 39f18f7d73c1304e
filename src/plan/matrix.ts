import type { MatrixRow } from '../pipeline/pipeline-types.js'

/** More instances than this is an error, as in GitHub Actions. */
export const MAX_INSTANCES = 256
// Guards against expanding a huge product only for excludes to cut it down.
const MAX_PRODUCT = 65_536

/** A matrix that cannot be expanded; the message says why. */
export class MatrixError extends Error {
  override name = 'MatrixError'
}

/**
 * A matrix that makes no instance: an error in the file, and for a matrix made of
 * upstream outputs a job with nothing to do (the scheduler skips it).
 */
export class EmptyMatrixError extends MatrixError {
  override name = 'EmptyMatrixError'
}

/**
 * Expands a matrix the way GitHub Actions does: the cartesian product of the axes (the
 * first axis varies slowest), minus every combination an `exclude` row matches (a row
 * may name some keys only), then each `include` row is added to every combination whose
 * axis values it does not contradict; a row that fits none becomes a combination of its own.
 */
export function expandMatrix(
  axes: Record<string, readonly unknown[]>,
  include: readonly MatrixRow[] = [],
  exclude: readonly MatrixRow[] = []
): MatrixRow[] {
  const keys = Object.keys(axes)
  const product = keys.reduce((n, k) => n * axes[k].length, keys.length ? 1 : 0)
  if (product > MAX_PRODUCT)
    throw new MatrixError(`the axes make ${product} combinations; at most ${MAX_INSTANCES} may run`)
  let rows: MatrixRow[] = keys.length ? [{}] : []
  for (const key of keys) rows = rows.flatMap((row) => axes[key].map((v) => ({ ...row, [key]: v })))
  rows = rows.filter((row) => !exclude.some((ex) => matches(row, ex)))
  const originals = rows.map((row) => ({ axes: { ...row }, row }))
  const added: MatrixRow[] = []
  for (const extra of include) {
    let fitted = false
    for (const original of originals) {
      const contradicts = Object.entries(extra).some(
        ([k, v]) => k in original.axes && !same(original.axes[k], v)
      )
      if (contradicts) continue
      Object.assign(original.row, extra)
      fitted = true
    }
    if (!fitted) added.push({ ...extra })
  }
  const all = [...originals.map((o) => o.row), ...added]
  if (all.length > MAX_INSTANCES)
    throw new MatrixError(
      `the matrix makes ${all.length} instances; at most ${MAX_INSTANCES} may run`
    )
  if (all.length === 0)
    throw new EmptyMatrixError(
      keys.length || exclude.length
        ? 'the matrix makes no instances (every combination is excluded)'
        : 'the matrix makes no instances'
    )
  return all
}

/** `job (v1, v2)`: how an instance is named in logs, results and the summary. */
export function instanceName(jobId: string, row: MatrixRow): string {
  const values = Object.values(row).map((v) =>
    typeof v === 'object' ? JSON.stringify(v) : String(v)
  )
  return values.length ? `${jobId} (${values.join(', ')})` : jobId
}

function matches(row: MatrixRow, pattern: MatrixRow): boolean {
  return Object.entries(pattern).every(([k, v]) => k in row && same(row[k], v))
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}

/** How much of a value that came back an error quotes: enough to see what it is. */
const QUOTED_CHARS = 120

/** A value as an error shows it (JSON), cut after QUOTED_CHARS characters. */
export function quoteStart(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > QUOTED_CHARS
    ? `${text.slice(0, QUOTED_CHARS)}… (${text.length} characters)`
    : text
}
