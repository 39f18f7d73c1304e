import pLimit from 'p-limit'
import type { StageSpec } from '../pipeline/pipeline-types.js'
import { quoteStart } from '../plan/matrix.js'
import { evaluatePython } from '../pipeline/python-condition.js'
import type { NestedRun, StageResult, Status } from './run-result.js'

/** What running the stages a stage holds takes from the stage runner. */
export interface NestedContext {
  /** A template rendered at the stage's place as its scripts are: one lone expression keeps its type. */
  value: (text: string) => unknown
  /** An `until` condition, with `item` and `loop` of the next time round. */
  condition: (text: string, extra: Record<string, unknown>) => boolean
  /**
   * Runs a list of stages as one run, into `run.stages`, with `extra` values besides the
   * job's (`item`, `loop`, `branch`, `case`); `iteration` tells its state folders apart.
   * Its stages stop starting when `stop` is aborted. Resolves to whether one failed.
   */
  runList: (
    stages: StageSpec[],
    run: NestedRun,
    extra: Record<string, unknown>,
    iteration: number,
    stop?: AbortSignal
  ) => Promise<boolean>
  /** The job's: aborted, nothing more starts. */
  signal: AbortSignal
}

/**
 * Runs the stages a `foreach`, `until`, `parallel` or `case` stage holds, as
 * ddeutil-workflow runs them (NestedStage), recording each run in `result.nested`.
 * Throws, saying which run and which stage failed, when the stage fails; marks it skipped
 * when every run was skipped (or a case matched nothing and may skip).
 */
export async function runNested(
  stage: StageSpec,
  result: StageResult,
  ctx: NestedContext
): Promise<void> {
  const nested = stage.nested!
  const runs: NestedRun[] = (result.nested = [])
  const newRun = (key: string, fields: Partial<NestedRun>): NestedRun => {
    const run: NestedRun = { key, ...fields, status: 'cancelled', stages: [] }
    runs.push(run)
    return run
  }
  const runOnce = async (
    stages: StageSpec[],
    run: NestedRun,
    extra: Record<string, unknown>,
    iteration: number,
    stop?: AbortSignal
  ) => {
    const failed = await ctx.runList(stages, run, extra, iteration, stop)
    // A stage the job's timeout stopped failed as the job did.
    run.status = failed || run.stages.some((s) => s.timed_out) ? 'failure' : listStatus(run.stages)
  }
  switch (nested.type) {
    case 'foreach': {
      const items = foreachItems(nested.items, nested.useIndexAsKey, ctx.value)
      // The first failed item stops the others from starting (ddeutil's fail-fast).
      const stop = new AbortController()
      const limit = pLimit(nested.concurrent)
      const planned = items.map((item, index) => ({
        run: newRun(nested.useIndexAsKey ? String(index) : keyOf(item), { item }),
        item,
        index
      }))
      await Promise.all(
        planned.map(({ run, item, index }) =>
          limit(async () => {
            if (stop.signal.aborted || ctx.signal.aborted) return
            await runOnce(nested.stages, run, { item, loop: index }, index, stop.signal)
            if (run.status === 'failure') stop.abort()
          })
        )
      )
      return settle(result, runs, 'item')
    }
    case 'until': {
      let item = typeof nested.item === 'string' ? ctx.value(nested.item) : nested.item
      for (let loop = 1; ;) {
        if (loop > nested.maxLoop)
          throw new Error(
            `until '${nested.until}' did not hold after ${nested.maxLoop} times round (max_loop)`
          )
        const run = newRun(String(loop), { loop, item })
        await runOnce(nested.stages, run, { item, loop }, loop - 1)
        if (run.status === 'failure' || ctx.signal.aborted) break
        loop += 1
        // An inner stage's `item` output is the next item; without one, the loop number.
        const next = [...run.stages].reverse().find((s) => s.outputs.item !== undefined)
        item = next ? outputValue(next.outputs.item) : loop
        if (ctx.condition(nested.until, { item, loop })) break
      }
      return settle(result, runs, 'loop')
    }
    case 'parallel': {
      const limit = pLimit(nested.maxWorkers)
      await Promise.all(
        nested.branches.map(({ name, stages }, index) => {
          const run = newRun(name, { branch: name })
          return limit(() =>
            ctx.signal.aborted ? undefined : runOnce(stages, run, { branch: name }, index)
          )
        })
      )
      return settle(result, runs, 'branch')
    }
    case 'case': {
      const value = ctx.value(nested.value)
      const written = nested.match.map((m, index) => ({
        ...m,
        index,
        value: typeof m.case === 'string' ? ctx.value(m.case) : m.case
      }))
      const chosen =
        written.find((m) => m.case !== undefined && sameValue(m.value, value)) ??
        written.find((m) => m.case === undefined)
      if (!chosen) {
        if (nested.skipNotMatch) {
          result.status = 'skipped'
          return
        }
        throw new Error(
          `no case matches ${quoteStart(value)}, and it has no else (skip_not_match: true skips it instead)`
        )
      }
      const matched = chosen.case === undefined ? '_' : chosen.value
      const run = newRun(keyOf(matched), { case: matched })
      await runOnce(chosen.stages, run, { case: matched }, chosen.index)
      return settle(result, runs, 'case')
    }
  }
}

/**
 * The items of a foreach: a list as written (its strings rendered), or what its template
 * gives (a list, or text that is a JSON list). Items repeat only by their index.
 */
function foreachItems(
  items: unknown[] | string,
  byIndex: boolean,
  value: (text: string) => unknown
): unknown[] {
  const given = Array.isArray(items)
    ? items.map((item) => (typeof item === 'string' ? value(item) : item))
    : value(items)
  const list = typeof given === 'string' ? listText(given) : given
  if (!Array.isArray(list))
    throw new Error(`foreach gives ${quoteStart(given)}, not a list of items`)
  const keys = list.map(keyOf)
  const repeated = keys.find((key, i) => keys.indexOf(key) !== i)
  if (!byIndex && repeated !== undefined)
    throw new Error(
      `the item ${repeated} comes more than once: set use_index_as_key: true to key items by their index`
    )
  return list
}

/**
 * An output as a value: a number, boolean or JSON list or object written as text (as a `py`
 * stage writes `item = 2`) is that value again; other text stays text.
 */
function outputValue(text: string): unknown {
  if (!/^\s*([-\d[{]|true$|false$|null$)/.test(text)) return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/**
 * Text that is a list: JSON, or a Python list as ddeutil-workflow reads one (a `bash`
 * stage's `echo "['a', 'b']"`); anything else is returned as it is, to be refused.
 */
function listText(text: string): unknown {
  for (const parse of [JSON.parse, evaluatePython])
    try {
      return parse(text) as unknown
    } catch {
      // The next form, or refused by the caller with what it is.
    }
  return text
}

/** How a run is keyed by a value: text as it is, anything else as JSON. */
function keyOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * Whether a case's value matches: numbers (and booleans) by value, as Python's `==`. An
 * output is text here where ddeutil keeps a `py` stage's number a number, so text that is
 * a number's text matches that number (`'1'` and `1`).
 */
function sameValue(a: unknown, b: unknown): boolean {
  const number = (v: unknown) =>
    typeof v === 'number' || typeof v === 'boolean'
      ? Number(v)
      : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))
        ? Number(v)
        : undefined
  const typed = (v: unknown) => typeof v === 'number' || typeof v === 'boolean'
  if (typed(a) || typed(b)) return number(a) !== undefined && number(a) === number(b)
  return a === b || (typeof a === 'object' && JSON.stringify(a) === JSON.stringify(b))
}

/** How a list of stages ended: skipped when every stage was, else success (none failed). */
function listStatus(stages: readonly StageResult[]): Status {
  if (stages.some((s) => s.status === 'cancelled')) return 'cancelled'
  return stages.length > 0 && stages.every((s) => s.status === 'skipped') ? 'skipped' : 'success'
}

/**
 * Ends the holding stage from its runs: the first failed run fails it, with that run's key
 * and the failed stage's message, exit code and flags; every run skipped skips it.
 */
function settle(result: StageResult, runs: readonly NestedRun[], noun: string): void {
  const failed = runs.find((r) => r.status === 'failure')
  if (failed) {
    const stage = failed.stages.find((s) => s.status === 'failure' && s.error !== undefined)
    result.exit_code = stage?.exit_code ?? null
    result.oom_killed = stage?.oom_killed ?? false
    result.timed_out = stage?.timed_out ?? false
    throw new Error(
      `${noun} ${failed.key}: ${stage ? `stage '${stage.name}' failed: ${stage.error}` : 'failed'}`
    )
  }
  // Only a stopped job cancels a run here: the stage is cancelled with it (stageFailed).
  const cancelled = runs.find((r) => r.status === 'cancelled')
  if (cancelled) throw new Error(`${noun} ${cancelled.key} was cancelled`)
  if (runs.length > 0 && runs.every((r) => r.status === 'skipped')) result.status = 'skipped'
}
