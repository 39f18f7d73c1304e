import pLimit, { type LimitFunction } from 'p-limit'
import { checkTriggerRule } from './trigger-rule.js'
import { availableParallelism } from 'node:os'
import { matchChangedFiles } from '../plan/changed-files.js'
import {
  expandInstances,
  matrixRows,
  type PlannedInstance,
  type PlannedJob
} from '../plan/pipeline-plan.js'
import { EmptyMatrixError, MatrixError, quoteStart } from '../plan/matrix.js'
import { expressionScope, type Outcome } from '../pipeline/expression.js'
import type { JobSpec } from '../pipeline/pipeline-types.js'
import {
  evaluateCondition,
  evaluateValue,
  readPaths,
  type ConditionOptions
} from '../pipeline/template.js'
import type { JobRunContext } from './job-context.js'
import { runJob } from './job-runner.js'
import { summarizeJob, type JobSummary } from './job-summary.js'
import type { RunReporter } from './run-reporter.js'
import type { JobResult } from './run-result.js'

/** How a job ended, as the jobs that need it see it. */
interface JobOutcome {
  summary: JobSummary
  results: JobResult[]
  /** It failed, or a job upstream of it did: `failure()` is true downstream. */
  failed: boolean
}

/** What scheduling a run's jobs takes from the run. */
export interface Scheduling {
  params: Record<string, unknown>
  runId: string
  reporter: RunReporter
  signal: AbortSignal
  context: Omit<JobRunContext, 'values' | 'signal'>
  /** The run's slots: at most `maxParallel` instances hold one at a time. */
  slots: LimitFunction
  /** Per job with `changed_files`, the changed files it matched (when they are known). */
  changed: Map<string, string[]>
  /**
   * `run --instance`: how needed jobs that ran elsewhere ended (every one of their
   * instances, as their result documents say), and whether any job upstream failed.
   */
  upstream?: { jobs: ReadonlyMap<string, UpstreamJob>; failed: boolean }
}

/** A needed job that ran on another runner: its plan and its instances' results. */
export interface UpstreamJob {
  job: PlannedJob
  results: JobResult[]
}

/**
 * Starts each job as soon as the jobs it needs have finished; resolves to every
 * instance's result, in plan order.
 */
export async function scheduleJobs(
  jobs: readonly PlannedJob[],
  run: Scheduling
): Promise<JobResult[]> {
  const outcomes = new Map<string, Promise<JobOutcome>>()
  // Their results are the other runners': they shape this run's, and are not part of it.
  for (const [id, { job, results }] of run.upstream?.jobs ?? [])
    outcomes.set(
      id,
      Promise.resolve({
        summary: summarizeJob(job, results),
        results: [],
        failed: run.upstream!.failed
      })
    )
  for (const job of jobs) {
    // Jobs come in plan order, so the promises of the jobs it needs exist already.
    const needs = job.job.needs.filter((n) => outcomes.has(n))
    const upstream = Promise.all(needs.map(async (n) => [n, await outcomes.get(n)!] as const))
    outcomes.set(
      job.id,
      upstream.then((done) => runPlannedJob(job, new Map(done), run))
    )
  }
  const settled = await Promise.all(outcomes.values())
  return settled.flatMap((o) => o.results)
}

/** For each job with `changed_files`, the changed files it selects, when those are known. */
export function changedFilesOf(
  jobs: readonly PlannedJob[],
  changedFiles: readonly string[] | undefined
): Map<string, string[]> {
  const matched = new Map<string, string[]>()
  if (!changedFiles) return matched
  for (const job of jobs) {
    const globs = job.job.changed_files
    if (globs) matched.set(job.id, matchChangedFiles(globs, changedFiles))
  }
  return matched
}

/**
 * Runs every instance of one job whose needs have finished: each takes a slot of the job
 * (`max_parallel`) and then one of the run, so a matrix never holds run slots it cannot use.
 */
async function runPlannedJob(
  job: PlannedJob,
  needed: Map<string, JobOutcome>,
  run: Scheduling
): Promise<JobOutcome> {
  const needs = Object.fromEntries([...needed].map(([id, o]) => [id, o.summary]))
  const failedUpstream = [...needed.values()].some((o) => o.failed)
  const rule = job.job.trigger_rule
  const verdict = rule
    ? checkTriggerRule(
        rule,
        job.job.needs.flatMap((id) => (needs[id] ? [[id, needs[id].result] as const] : []))
      )
    : undefined
  // With a trigger rule, the rule has decided on the needs: `if:` reads only the rest.
  const outcome: Outcome = {
    success: verdict ? true : Object.values(needs).every((n) => n.result === 'success'),
    failure: verdict ? false : failedUpstream,
    cancelled: run.signal.aborted
  }
  // fail_fast: the first failure cancels the siblings, those running and those waiting.
  const siblings = new AbortController()
  const signal = AbortSignal.any([run.signal, siblings.signal])
  const jobSlots = job.maxParallel ? pLimit(job.maxParallel) : undefined
  const runInstance = async (instance: PlannedInstance): Promise<JobResult> => {
    const values = { ...instanceValues(instance, run), needs }
    const condition = conditionHolds(job.job.if, values, outcome, {
      python: run.context.pipeline.dialect === 'ddeutil',
      env: run.context.env
    })
    const changedFiles = run.changed.get(job.id)
    let result: JobResult
    if (signal.aborted) {
      result = notRun(instance, 'cancelled', reasonOf(signal))
    } else if (verdict && !verdict.run) {
      result = notRun(instance, verdict.status, verdict.reason)
    } else if (changedFiles?.length === 0) {
      result = notRun(instance, 'skipped', 'skipped: no changed file matches its changed_files')
    } else if (typeof condition === 'string') {
      result = notRun(instance, 'failure', condition)
    } else if (!condition) {
      const blocker = job.job.needs.find((n) => needs[n] && needs[n].result !== 'success')
      result = notRun(
        instance,
        'skipped',
        blocker
          ? `skipped: needed job '${blocker}' did not succeed`
          : 'skipped: its if: condition is false'
      )
    } else {
      result = await runJob(instance, { ...run.context, values, signal, changedFiles })
      if (result.status === 'failure' && job.failFast && job.instances.length > 1) {
        siblings.abort(`cancelled: instance '${instance.id}' failed (fail_fast)`)
      }
      return result
    }
    run.context.warmer?.discard(instance)
    run.reporter.jobFinished(instance, result)
    return result
  }
  const laterRows = job.after && expandLater(job, needs, run, outcome, verdict)
  if (laterRows && 'result' in laterRows) {
    const placeholder = job.instances[0]
    run.reporter.jobFinished(placeholder, laterRows.result)
    const summary = summarizeJob(job, [laterRows.result])
    return {
      summary,
      results: [laterRows.result],
      failed: summary.result === 'failure' || failedUpstream
    }
  }
  const results = await Promise.all(
    job.instances.map((instance) => {
      const inRunSlot = () => run.slots(() => runInstance(instance))
      return jobSlots ? jobSlots(inRunSlot) : inRunSlot()
    })
  )
  const summary = summarizeJob(job, results)
  return { summary, results, failed: summary.result === 'failure' || failedUpstream }
}

/**
 * Expands the matrix of a job made of upstream outputs, now that its needs are done, and
 * sets the job's instances. When there is nothing to expand (the job will not run, the
 * outputs make no instance, or they are not a matrix) the job gets one instance named as
 * the job, and the result it ends with is returned.
 */
function expandLater(
  job: PlannedJob,
  needs: Record<string, JobSummary>,
  run: Scheduling,
  outcome: Outcome,
  verdict: ReturnType<typeof checkTriggerRule> | undefined
): { result: JobResult } | undefined {
  const placeholder: PlannedInstance = { id: job.id, slug: job.id, job: job.job, matrix: {} }
  job.instances = [placeholder]
  if (outcome.cancelled) return { result: notRun(placeholder, 'cancelled', reasonOf(run.signal)) }
  if (verdict && !verdict.run)
    return { result: notRun(placeholder, verdict.status, verdict.reason) }
  // By default a job runs after its needs succeeded; one whose `if:` or trigger rule says
  // otherwise is expanded from what the others left (and fails if that is no matrix).
  const blocker = job.job.needs.find((n) => needs[n] && needs[n].result !== 'success')
  if (blocker && job.job.if === undefined && !verdict)
    return {
      result: notRun(placeholder, 'skipped', `skipped: needed job '${blocker}' did not succeed`)
    }
  const scope = expressionScope({ ...instanceValues(placeholder, run), needs })
  try {
    job.instances = expandInstances(
      job.job,
      matrixRows(job.job, (text) => evaluateValue(text, scope))
    )
    return undefined
  } catch (error) {
    if (error instanceof EmptyMatrixError)
      return {
        result: notRun(
          placeholder,
          'skipped',
          `skipped: its matrix, made of the outputs of ${job.after!.map((n) => `'${n}'`).join(', ')}, has no instances (${error.message})`
        )
      }
    const at = job.job.strategy!.matrix!.position
    const read = error instanceof MatrixError ? '' : whatCameBack(job, needs)
    return {
      result: notRun(
        placeholder,
        'failure',
        `${at.file}:${at.line}:${at.col}: jobs.${job.id}.strategy.matrix: ${(error as Error).message}${read}`
      )
    }
  }
}

/** The upstream outputs a job's matrix reads, each quoted by its start: `needs.list.outputs.files is 'a.csv b…'`. */
function whatCameBack(job: PlannedJob, needs: Record<string, JobSummary>): string {
  const matrix = job.job.strategy!.matrix!
  const texts = [matrix.whole, ...Object.values(matrix.axes), matrix.include, matrix.exclude]
  const paths = texts.flatMap((t) => (typeof t === 'string' ? readPaths(t, 'needs') : []))
  const quoted = new Map<string, string>()
  for (const [, id, field, key] of paths) {
    if (field !== 'outputs' || key === undefined) continue
    const value = needs[id]?.outputs[key]
    quoted.set(
      `needs.${id}.outputs.${key}`,
      value === undefined ? `not set (job '${id}' ${needs[id]?.result})` : quoteStart(value)
    )
  }
  return [...quoted].map(([path, text]) => `; ${path} is ${text}`).join('')
}

/**
 * How many instances run at once when the run does not say: the CPU count, or a job's own
 * `max_parallel` where that is higher (it is the pipeline author's word on that job, and
 * its work may well wait on more than the CPU: `sleep`, the network, a service).
 */
export function defaultMaxParallel(jobs: readonly PlannedJob[]): number {
  return Math.max(availableParallelism(), ...jobs.map((job) => job.maxParallel ?? 0))
}

/** What expressions of an instance read before its needs are known. */
export function instanceValues(
  instance: PlannedInstance,
  run: Pick<Scheduling, 'params' | 'runId'>
): Record<string, unknown> {
  return {
    params: run.params,
    run_id: run.runId,
    matrix: instance.matrix,
    job: { id: instance.job.id, instance: instance.id }
  }
}

/**
 * Whether a job's `if:` holds for one instance; an expression that fails at run time
 * (`fromJSON` of text that is not JSON) fails the instance with the reason.
 */
function conditionHolds(
  condition: JobSpec['if'],
  values: Record<string, unknown>,
  outcome: Outcome,
  options: ConditionOptions
): boolean | string {
  try {
    return evaluateCondition(condition, expressionScope(values), outcome, options)
  } catch (error) {
    return `if: ${(error as Error).message}`
  }
}

/**
 * The result of a run that could not start: the instances with a problem failed with it,
 * the others were not run. Nothing was created.
 */
export function notStarted(
  jobs: readonly PlannedJob[],
  problems: Map<string, string>,
  reporter: RunReporter
): JobResult[] {
  return jobs.flatMap((job) =>
    job.instances.map((instance) => {
      const problem = problems.get(instance.id)
      const result = problem
        ? notRun(instance, 'failure', problem)
        : notRun(instance, 'skipped', 'not run: the run could not start (see the failed jobs)')
      reporter.jobFinished(instance, result)
      return result
    })
  )
}

function reasonOf(signal: AbortSignal): string | undefined {
  return typeof signal.reason === 'string' ? signal.reason : undefined
}

/** The result of an instance that did not run, with the reason. */
export function notRun(
  instance: PlannedInstance,
  status: 'skipped' | 'cancelled' | 'failure',
  error?: string
): JobResult {
  const result: JobResult = {
    id: instance.id,
    job: instance.job.id,
    matrix: instance.matrix,
    status,
    exit_code: null,
    oom_killed: false,
    timed_out: false,
    attempts: 0,
    started_at: null,
    duration_ms: 0,
    outputs: {},
    stages: []
  }
  if (error) result.error = error
  return result
}
