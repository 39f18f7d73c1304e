import { ExpressionError, expressionScope } from '../pipeline/expression.js'
import { orderJobs } from '../pipeline/job-order.js'
import type { JobSpec, MatrixRow, Pipeline } from '../pipeline/pipeline-types.js'
import { PipelineFileError } from '../pipeline/file-problems.js'
import { evaluateValue } from '../pipeline/template.js'
import { EmptyMatrixError, expandMatrix, instanceName, MatrixError, quoteStart } from './matrix.js'

/** One container run of a job: the job itself, or one combination of its matrix. */
export interface PlannedInstance {
  /** Readable and unique in the run: `report (python:3.10-slim)`. */
  id: string
  /** Safe in container names, folders and labels: `report`, or `report-2` in a matrix. */
  slug: string
  job: JobSpec
  matrix: MatrixRow
}

export interface PlannedJob {
  id: string
  job: JobSpec
  /** Longest chain of needs before it: jobs of one level may run side by side. */
  level: number
  /**
   * Its instances. A job whose matrix reads upstream outputs (`after`) has none in the
   * plan: the scheduler expands them (expandInstances) once those jobs are done, and sets
   * them here, so that what reports the run finds them.
   */
  instances: PlannedInstance[]
  /** The jobs whose outputs its matrix is made of, when it is; absent otherwise. */
  after?: string[]
  /** At most this many instances at once (unbounded when undefined). */
  maxParallel?: number
  /** A failed instance cancels its siblings. */
  failFast: boolean
}

export interface PipelinePlan {
  pipeline: Pipeline
  /** Every job, each after the jobs it needs. */
  jobs: PlannedJob[]
  /** Job ids by level. */
  levels: string[][]
}

/**
 * Expands the validated pipeline into what will run: matrix instances (axes given as
 * expressions are evaluated with the params), levels of the DAG and the order to start
 * jobs in. Pure; a matrix that cannot be expanded is a PipelineFileError at its position.
 */
export function planPipeline(pipeline: Pipeline, params: Record<string, unknown>): PipelinePlan {
  const scope = expressionScope({ params })
  const levels = new Map<string, number>()
  const jobs: PlannedJob[] = []
  const problems: PipelineFileError['problems'] = []
  for (const job of orderJobs(pipeline.jobs).order) {
    const level = Math.max(-1, ...job.needs.map((n) => levels.get(n) ?? 0)) + 1
    levels.set(job.id, level)
    const after = job.strategy?.matrix?.after ?? []
    let instances: PlannedInstance[] = []
    if (after.length === 0) {
      try {
        instances = expandInstances(
          job,
          matrixRows(job, (text) => evaluateValue(text, scope))
        )
      } catch (error) {
        if (!(error instanceof MatrixError || error instanceof ExpressionError)) throw error
        problems.push({
          ...job.strategy!.matrix!.position,
          message: `jobs.${job.id}: ${error.message}`
        })
      }
    }
    const planned: PlannedJob = {
      id: job.id,
      job,
      level,
      instances,
      failFast: job.strategy?.fail_fast ?? true
    }
    if (after.length > 0) planned.after = after
    if (job.strategy?.max_parallel !== undefined) planned.maxParallel = job.strategy.max_parallel
    jobs.push(planned)
  }
  if (problems.length > 0) throw new PipelineFileError(problems)
  const byLevel: string[][] = []
  for (const job of jobs) (byLevel[job.level] ??= []).push(job.id)
  return { pipeline, jobs, levels: byLevel }
}

/**
 * How a job is labelled in a drawing of the DAG: its id, with `×N` for a matrix of N
 * instances, or `×?` for one made of upstream outputs that is not expanded yet.
 */
export function jobLabel(job: PlannedJob): string {
  if (!job.job.strategy?.matrix) return job.id
  return `${job.id} ×${job.after && job.instances.length === 0 ? '?' : job.instances.length}`
}

/**
 * A job's instances from its matrix rows: each named by its values (`test (3.12)`, with
 * ` #2` on a repeat) and given a slug by its place (`test-2`).
 */
export function expandInstances(job: JobSpec, rows: readonly MatrixRow[]): PlannedInstance[] {
  const names = new Map<string, number>()
  return rows.map((matrix, i) => {
    let id = instanceName(job.id, matrix)
    const seen = (names.get(id) ?? 0) + 1
    names.set(id, seen)
    if (seen > 1) id = `${id} #${seen}`
    return { id, slug: job.strategy?.matrix ? `${job.id}-${i + 1}` : job.id, job, matrix }
  })
}

/**
 * The rows of a job's matrix, its expressions evaluated by `evaluate` (with the params
 * before the run, with the needs' outputs too once those are done). Throws MatrixError
 * (or ExpressionError) saying what is wrong; a value that came back from a container is
 * quoted by its start only.
 */
export function matrixRows(job: JobSpec, evaluate: (text: string) => unknown): MatrixRow[] {
  const matrix = job.strategy?.matrix
  if (!matrix) return [{}]
  if (matrix.whole !== undefined) return wholeMatrix(matrix.whole, evaluate(matrix.whole))
  const axes: Record<string, unknown[]> = {}
  for (const [key, values] of Object.entries(matrix.axes)) {
    axes[key] = Array.isArray(values) ? values : listOf(`axis '${key}'`, values, evaluate(values))
  }
  const rows = (what: string, value: MatrixRow[] | string) =>
    typeof value === 'string' ? rowsOf(what, value, evaluate(value)) : value
  return expandMatrix(axes, rows('include', matrix.include), rows('exclude', matrix.exclude))
}

/** A matrix given whole: an object of axes, `include` and `exclude`, or a list of rows. */
function wholeMatrix(text: string, value: unknown): MatrixRow[] {
  if (Array.isArray(value)) return expandMatrix({}, rowsOf('the matrix', text, value))
  if (!isRow(value))
    throw new MatrixError(
      `the matrix ('${text}') must give an object of axes or a list of rows, not ${quoteStart(value)}`
    )
  const { include, exclude, ...rest } = value
  const axes: Record<string, unknown[]> = {}
  for (const [key, values] of Object.entries(rest))
    axes[key] = listOf(`axis '${key}'`, text, values)
  const rows = (what: string, v: unknown) => (v === undefined ? [] : rowsOf(what, text, v))
  return expandMatrix(axes, rows('include', include), rows('exclude', exclude))
}

function listOf(what: string, text: string, value: unknown): unknown[] {
  const problem = `${what} ('${text}') must give a non-empty list, not ${quoteStart(value)}`
  if (!Array.isArray(value)) throw new MatrixError(problem)
  if (value.length === 0) throw new EmptyMatrixError(problem)
  return value
}

function rowsOf(what: string, text: string, value: unknown): MatrixRow[] {
  if (!Array.isArray(value) || !value.every(isRow))
    throw new MatrixError(
      `${what} ('${text}') must give a list of objects, not ${quoteStart(value)}`
    )
  return value
}

function isRow(value: unknown): value is MatrixRow {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
