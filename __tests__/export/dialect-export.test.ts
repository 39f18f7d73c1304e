import { EXPORT_TARGETS, type ExportTarget } from '../../src/export/export-pipeline.js'
import { exportOrProblems, type ExportFlags } from '../helpers/export.js'

/** A file with `on:` (line 1) and one job; `extra` goes under `on:`. */
const withOn = (extra: string, params = '') =>
  `on:\n${extra}${params}jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`
const nightly = "  schedule: [{cronjob: '0 2 * * *'}]\n"

function problems(target: ExportTarget, text: string, flags: ExportFlags = {}): string[] {
  const made = exportOrProblems(target, text, flags)
  return 'problems' in made ? made.problems : []
}

describe('export: what a target cannot do with on:', () => {
  it.each<[string, ExportTarget, string, ExportFlags, string[]]>([
    [
      'a schedule, for Kubernetes Jobs',
      'k8s',
      withOn(nightly),
      {},
      [
        'p.yml:1:1: export --to k8s: on.schedule: the Kubernetes Jobs of an export are not scheduled; export to argo, airflow or github for a schedule, or leave it out with --drop on.schedule'
      ]
    ],
    [
      'a schedule, for Batch',
      'batch',
      withOn(nightly),
      {},
      [
        'p.yml:1:1: export --to batch: on.schedule: the Batch jobs of an export are not scheduled; export to argo, airflow or github for a schedule, or leave it out with --drop on.schedule'
      ]
    ],
    [
      'two cron lines, for Airflow',
      'airflow',
      withOn("  schedule: [{cronjob: '0 2 * * *'}, {cronjob: '0 14 * * *'}]\n"),
      {},
      [
        'p.yml:1:1: export --to airflow: on.schedule: an Airflow DAG takes one cron line, not 2; keep one, or leave them out with --drop on.schedule'
      ]
    ],
    [
      'a schedule, for an Argo WorkflowTemplate',
      'argo',
      withOn(nightly),
      { template: true },
      [
        'p.yml:1:1: export --to argo: on.schedule: a WorkflowTemplate has no schedule; leave out --template (a CronWorkflow is written), or leave it out with --drop on.schedule'
      ]
    ],
    [
      'a date param with no default, which is the run start',
      'github',
      withOn(nightly, 'params: {day: date}\n'),
      {},
      [
        "p.yml:3:10: export --to github: params.day: a date param without a default is the run's start, which the export cannot say; give it a default"
      ]
    ]
  ])('%s (%s)', (_, target, text, flags, expected) => {
    expect(problems(target, text, flags)).toEqual(expected)
  })

  it.each(EXPORT_TARGETS)('%s refuses on.release, which only ddeutil has', (target) => {
    expect(problems(target, withOn('  release: [upstream]\n'))).toEqual([
      `p.yml:1:1: export --to ${target}: on.release: only ddeutil-workflow starts a workflow when another is released; leave it out with --drop on.release`
    ])
  })

  it.each(EXPORT_TARGETS)('%s exports with --drop on.schedule and on.release', (target) => {
    const text = withOn(`${nightly}  release: [upstream]\n`)
    const set = target === 'batch' ? ['efs=fs-12345678'] : []
    expect(problems(target, text, { drop: ['on.schedule', 'on.release'], set })).toEqual([])
  })
})

describe('export: trigger-rule', () => {
  const ruled = (rule: string) =>
    `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n  b:\n    needs: [a]\n    trigger-rule: ${rule}\n    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`

  it.each<ExportTarget>(['argo', 'airflow', 'k8s'])(
    '%s refuses a rule it has no counterpart of, naming it',
    (target) => {
      expect(problems(target, ruled('one_failed'))).toEqual([
        `p.yml:5:3: export --to ${target}: jobs.b.trigger-rule: trigger-rule one_failed has no counterpart with the same meaning in ${target}; export to github (its runners decide it as a run does)`
      ])
    }
  )

  it.each<ExportTarget>(['argo', 'airflow', 'github'])(
    '%s takes all_done and all_success',
    (target) => {
      expect(problems(target, ruled('all_done'))).toEqual([])
      expect(problems(target, ruled('all_success'))).toEqual([])
    }
  )

  it('github takes every rule: its runners decide it', () => {
    expect(problems('github', ruled('one_failed'))).toEqual([])
  })
})
