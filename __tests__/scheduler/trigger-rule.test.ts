import { checkTriggerRule, type NeedStatus } from '../../src/scheduler/trigger-rule.js'
import type { TriggerRule } from '../../src/pipeline/pipeline-types.js'

const needs = (...statuses: NeedStatus[]) =>
  statuses.map((status, i): [string, NeedStatus] => [`j${i + 1}`, status])

describe("checkTriggerRule: ddeutil-workflow's check_needs", () => {
  it.each<[TriggerRule, NeedStatus[], boolean]>([
    ['all_success', ['success', 'success'], true],
    ['all_success', ['success', 'failure'], false],
    ['all_success', ['success', 'skipped'], false],
    ['all_failed', ['failure', 'failure'], true],
    ['all_failed', ['failure', 'success'], false],
    ['all_done', ['failure', 'success', 'skipped'], true],
    ['one_success', ['success', 'failure'], true],
    ['one_success', ['success', 'success'], false],
    ['one_failed', ['failure', 'success'], true],
    ['one_failed', ['failure', 'failure'], false],
    ['none_failed', ['success', 'skipped'], true],
    ['none_failed', ['success', 'failure'], false],
    ['none_skipped', ['success', 'failure'], true],
    ['none_skipped', ['success', 'skipped'], false]
  ])('%s over %j runs: %s', (rule, statuses, runs) => {
    const verdict = checkTriggerRule(rule, needs(...statuses))
    expect(verdict.run).toBe(runs)
    if (!verdict.run)
      expect(verdict).toEqual({
        run: false,
        status: 'failure',
        reason: `trigger-rule ${rule} does not hold for the jobs it needs (${needs(...statuses)
          .map(([id, s]) => `${id} ${s}`)
          .join(', ')})`
      })
  })

  it.each<TriggerRule>(['all_done', 'none_skipped', 'all_failed'])(
    '%s: every need skipped skips the job, before the rule',
    (rule) => {
      expect(checkTriggerRule(rule, needs('skipped', 'skipped'))).toEqual({
        run: false,
        status: 'skipped',
        reason: 'skipped: every job it needs was skipped'
      })
    }
  )

  it('a cancelled need cancels the job, before the rule', () => {
    expect(checkTriggerRule('all_done', needs('success', 'cancelled'))).toEqual({
      run: false,
      status: 'cancelled',
      reason: "cancelled: needed job 'j2' was cancelled"
    })
  })

  it('a job without needs runs', () => {
    expect(checkTriggerRule('all_failed', [])).toEqual({ run: true })
  })
})
