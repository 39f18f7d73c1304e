import { mergeResults } from '../../src/app/fan-out.js'
import { preparePlan } from '../../src/app/prepare-plan.js'
import type { JobResult, RunResult } from '../../src/scheduler/run-result.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'

const TEXT = `name: m
jobs:
  a:
    strategy: {matrix: {n: [1, 2]}}
    runs-on: {type: container, with: {image: alpine}}
    stages: [{name: s, type: sh, run: 'true'}]
  b:
    needs: [a]
    runs-on: {type: container, with: {image: alpine}}
    stages: [{name: s, type: sh, run: 'true'}]
`
const { plan } = preparePlan(parsePipeline(TEXT, 'p.yml', '/repo'), {})

function job(id: string, jobId: string, status: JobResult['status']): JobResult {
  return {
    id,
    job: jobId,
    matrix: {},
    status,
    exit_code: status === 'failure' ? 1 : 0,
    oom_killed: false,
    timed_out: false,
    attempts: 1,
    started_at: '2026-12-04T10:00:00.000Z',
    duration_ms: 1000,
    outputs: {},
    stages: []
  }
}

function doc(startedAt: string, durationMs: number, jobs: JobResult[]): RunResult {
  return {
    run_id: `r-${startedAt}`,
    pipeline: 'm',
    file: 'p.yml',
    status: 'success',
    started_at: startedAt,
    duration_ms: durationMs,
    jobs
  }
}

describe('results merge', () => {
  it.each<[string, RunResult[], Array<[string, string]>, RunResult['status']]>([
    [
      'every instance once, in plan order, whatever order the documents come in',
      [
        doc('2026-12-04T10:00:05.000Z', 1000, [job('b', 'b', 'success')]),
        doc('2026-12-04T10:00:00.000Z', 2000, [job('a (2)', 'a', 'success')]),
        doc('2026-12-04T10:00:00.000Z', 2000, [job('a (1)', 'a', 'success')]),
        // A downstream runner's folder carries its upstream's documents again.
        doc('2026-12-04T10:00:00.000Z', 2000, [job('a (1)', 'a', 'success')])
      ],
      [
        ['a (1)', 'success'],
        ['a (2)', 'success'],
        ['b', 'success']
      ],
      'success'
    ],
    [
      'an instance without a document as skipped; a failure fails the whole',
      [doc('2026-12-04T10:00:00.000Z', 2000, [job('a (1)', 'a', 'failure')])],
      [
        ['a (1)', 'failure'],
        ['a (2)', 'skipped'],
        ['b', 'skipped']
      ],
      'failure'
    ]
  ])('%s', (_, documents, jobs, status) => {
    const merged = mergeResults(plan, documents)
    expect(merged.jobs.map((j) => [j.id, j.status])).toEqual(jobs)
    expect(merged.status).toBe(status)
  })

  it('spans from the first start to the last end', () => {
    const merged = mergeResults(plan, [
      doc('2026-12-04T10:00:00.000Z', 2000, [job('a (1)', 'a', 'success')]),
      doc('2026-12-04T10:00:05.000Z', 1500, [job('b', 'b', 'success')])
    ])
    expect([merged.started_at, merged.duration_ms]).toEqual(['2026-12-04T10:00:00.000Z', 6500])
  })
})
