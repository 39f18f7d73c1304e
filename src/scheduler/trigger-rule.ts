import type { TriggerRule } from '../pipeline/pipeline-types.js'

/** How a needed job ended, as its summary says. */
export type NeedStatus = 'success' | 'failure' | 'cancelled' | 'skipped'

/** What a job's trigger rule makes of its needs: run it, or end it so, with why. */
export type RuleVerdict =
  { run: true } | { run: false; status: 'skipped' | 'cancelled' | 'failure'; reason: string }

/**
 * Decides a job's `trigger-rule` from how its needs ended, as ddeutil-workflow's
 * `check_needs` does, once they all have: every need skipped skips the job; a cancelled
 * need cancels it; then the rule, where `one_*` means exactly one. A rule that does not
 * hold fails the job (ddeutil fails the workflow there).
 */
export function checkTriggerRule(
  rule: TriggerRule,
  needs: ReadonlyArray<[string, NeedStatus]>
): RuleVerdict {
  if (needs.length === 0) return { run: true }
  const statuses = needs.map(([, status]) => status)
  if (statuses.every((s) => s === 'skipped'))
    return { run: false, status: 'skipped', reason: 'skipped: every job it needs was skipped' }
  const cancelled = needs.find(([, status]) => status === 'cancelled')
  if (cancelled)
    return {
      run: false,
      status: 'cancelled',
      reason: `cancelled: needed job '${cancelled[0]}' was cancelled`
    }
  const count = (status: NeedStatus) => statuses.filter((s) => s === status).length
  const holds: Record<TriggerRule, boolean> = {
    all_done: true,
    all_success: count('success') === statuses.length,
    all_failed: count('failure') === statuses.length,
    one_success: count('success') === 1,
    one_failed: count('failure') === 1,
    none_failed: count('failure') === 0,
    none_skipped: count('skipped') === 0
  }
  if (holds[rule]) return { run: true }
  const ended = needs.map(([id, status]) => `${id} ${status}`).join(', ')
  return {
    run: false,
    status: 'failure',
    reason: `trigger-rule ${rule} does not hold for the jobs it needs (${ended})`
  }
}
