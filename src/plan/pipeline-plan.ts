import { ExpressionError, expressionScope } from '../pipeline/expression.js'
import { orderJobs } from '../pipeline/job-order.js'
import type { JobSpec, MatrixRow, Pipeline } from '../pipeline/pipeline-types.js'
import { PipelineFileError } from '../pipeline/file-problems.js'
import { evaluateValue } from '../pipeline/template.js'
import { expandMatrix, instanceName, MatrixError } from './matrix.js'

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
  instances: PlannedInstance[]
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
    let rows: MatrixRow[] = [{}]
    try {
      rows = matrixRows(job, (text) => evaluateValue(text, scope))
    } catch (error) {
      if (!(error instanceof MatrixError || error instanceof ExpressionError)) throw error
      problems.push({
        ...job.strategy!.matrix!.position,
        message: `jobs.${job.id}: ${error.message}`
      })
    }
    const names = new Map<string, number>()
    const instances = rows.map((matrix, i) => {
      let id = instanceName(job.id, matrix)
      const seen = (names.get(id) ?? 0) + 1
      names.set(id, seen)
      if (seen > 1) id = `${id} #${seen}`
      return { id, slug: job.strategy?.matrix ? `${job.id}-${i + 1}` : job.id, job, matrix }
    })
    const planned: PlannedJob = {
      id: job.id,
      job,
      level,
      instances,
      failFast: job.strategy?.fail_fast ?? true
    }
    if (job.strategy?.max_parallel !== undefined) planned.maxParallel = job.strategy.max_parallel
    jobs.push(planned)
  }
  if (problems.length > 0) throw new PipelineFileError(problems)
  const byLevel: string[][] = []
  for (const job of jobs) (byLevel[job.level] ??= []).push(job.id)
  return { pipeline, jobs, levels: byLevel }
}

function matrixRows(job: JobSpec, evaluate: (text: string) => unknown): MatrixRow[] {
  const matrix = job.strategy?.matrix
  if (!matrix) return [{}]
  const axes: Record<string, unknown[]> = {}
  for (const [key, values] of Object.entries(matrix.axes)) {
    if (Array.isArray(values)) {
      axes[key] = values
      continue
    }
    const value = evaluate(values)
    if (!Array.isArray(value) || value.length === 0)
      throw new MatrixError(
        `axis '${key}' ('${values}') must give a non-empty list, not ${JSON.stringify(value)}`
      )
    axes[key] = value
  }
  return expandMatrix(axes, matrix.include, matrix.exclude)
}
