import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { JobResult, RunResult } from '../../src/scheduler/run-result.js'
import { planPipeline } from '../../src/plan/pipeline-plan.js'
import { InstanceLogs } from '../../src/report/instance-logs.js'
import { summaryMarkdown } from '../../src/report/step-summary.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'

const pipeline = parsePipeline(
  [
    'name: checks',
    'jobs:',
    '  prep:',
    '    runs-on: {with: {image: x}}',
    '    stages: [{name: s, type: sh, run: "true"}]',
    '  test:',
    '    needs: prep',
    '    strategy: {matrix: {os: [a, b]}}',
    '    runs-on: {with: {image: "{{ matrix.os }}"}}',
    '    stages: [{name: s, type: sh, run: "true"}]',
    ''
  ].join('\n'),
  'checks.yml',
  '/repo'
)
const plan = planPipeline(pipeline, {})

function job(
  id: string,
  jobId: string,
  status: JobResult['status'],
  extra: Partial<JobResult> = {}
): JobResult {
  return {
    id,
    job: jobId,
    matrix: {},
    status,
    exit_code: status === 'success' ? 0 : null,
    oom_killed: false,
    timed_out: false,
    attempts: 1,
    started_at: '2026-11-21T00:00:00.000Z',
    duration_ms: 1500,
    outputs: {},
    stages: [],
    ...extra
  }
}

function run(jobs: JobResult[]): RunResult {
  const failed = jobs.some((j) => j.status === 'failure')
  return {
    run_id: 'r1',
    pipeline: 'checks',
    file: 'checks.yml',
    status: failed ? 'failure' : 'success',
    started_at: '2026-11-21T00:00:00.000Z',
    duration_ms: 4000,
    jobs
  }
}

const logs = () => new InstanceLogs(mkdtempSync(path.join(tmpdir(), 'ctr-summary-test-')))
const slugOf = (id: string) => plan.jobs.flatMap((j) => j.instances).find((i) => i.id === id)!.slug

describe('summaryMarkdown', () => {
  const result = run([
    job('prep', 'prep', 'success', { outputs: { rows: '5', note: 'a|b\n<c>' } }),
    job('test (a)', 'test', 'success', { matrix: { os: 'a' } }),
    job('test (b)', 'test', 'failure', {
      matrix: { os: 'b' },
      exit_code: 137,
      oom_killed: true,
      error: 'killed for memory',
      stages: [
        {
          id: 's',
          name: 's',
          type: 'sh',
          status: 'failure',
          exit_code: 137,
          oom_killed: true,
          timed_out: false,
          duration_ms: 1,
          outputs: {},
          annotations: [
            {
              level: 'error',
              message: 'price is empty',
              file: '/repo/data/sales.csv',
              line: 12,
              title: 'Bad row'
            }
          ]
        }
      ]
    })
  ])

  it('has a heading, the coloured DAG, a row per instance, the annotations and failed tails', async () => {
    const kept = logs()
    kept.append(slugOf('test (b)'), 'allocating')
    kept.append(slugOf('test (b)'), 'Killed')
    const text = await summaryMarkdown(plan, result, kept, { baseDir: '/repo' })
    expect(text).toContain('## ❌ checks: failure')
    expect(text).toContain('```mermaid\nflowchart LR\n  j0["prep"]\n  j1["test ×2"]\n  j0 --> j1')
    expect(text).toMatch(/class j0 success/)
    const t0 = Date.parse('2026-11-21T00:00:00.000Z')
    expect(text).toContain(
      `### Timeline\n\n\`\`\`mermaid\ngantt\n    title run r1\n    dateFormat x\n    axisFormat %M:%S\n    section prep\n    prep :done, ${t0}, ${t0 + 1500}\n`
    )
    // The failed stage had no start time in this document: no stage chart.
    expect(text).not.toContain('<summary>Stages</summary>')
    expect(text).toMatch(/class j1 failure/)
    expect(text).toContain('| Job | Matrix | Status | Duration | Exit code | OOM | Outputs |')
    expect(text).toContain(
      '| prep |  | ✅ success | 1.50 s | 0 |  | rows=5, note=a&#124;b<br>&#60;c&#62; |'
    )
    expect(text).toContain('| test | os=a | ✅ success | 1.50 s | 0 |  |  |')
    expect(text).toContain('| test | os=b | ❌ failure | 1.50 s | 137 | killed for memory |  |')
    expect(text).toContain('data/sales.csv:12 error in test (b): **Bad row**: price is empty')
    expect(text).toContain('<details><summary>test (b) failed: killed for memory</summary>')
    expect(text).toContain('```text\nallocating\nKilled\n```')
  })

  it.each([
    [undefined, undefined],
    [
      { name: 'ctr-pipeline-report' },
      'The full report, every log searchable: the artifact `ctr-pipeline-report` of this run (an HTML page, zipped).'
    ],
    [
      {
        name: 'linux-ctr-pipeline-report',
        url: 'https://github.com/o/r/actions/runs/7/artifacts/42'
      },
      'The full report, every log searchable: [linux-ctr-pipeline-report](https://github.com/o/r/actions/runs/7/artifacts/42) (an HTML page, zipped).'
    ]
  ])('with the report %j, says under the heading %j', async (report, line) => {
    const text = await summaryMarkdown(plan, result, logs(), { report })
    const paragraphs = text.split('\n\n')
    expect(paragraphs[2].startsWith('```mermaid') ? undefined : paragraphs[2]).toBe(line)
  })

  it('stays under its limit: tails go first, then rows, each counted', async () => {
    const kept = logs()
    for (let i = 0; i < 40; i++) kept.append(slugOf('test (b)'), 'x'.repeat(300))
    const whole = await summaryMarkdown(plan, result, kept)
    const noTails = await summaryMarkdown(plan, result, kept, { limitBytes: 2000 })
    expect(Buffer.byteLength(whole)).toBeGreaterThan(12000)
    expect(Buffer.byteLength(noTails)).toBeLessThanOrEqual(2000)
    expect(noTails).toContain('…and 1 more failed instances')
    expect(noTails).toContain('| test | os=b |')
    const fewRows = await summaryMarkdown(plan, result, kept, { limitBytes: 700 })
    expect(Buffer.byteLength(fewRows)).toBeLessThanOrEqual(700)
    expect(fewRows).toMatch(/\| …and \d more \(see the result output\)/)
  })
})

describe('summaryMarkdown of hostile names (issue 40, item 12)', () => {
  const hostile = 'x\n```\n![t](https://tracker.example/p.png) `y` | "z"'
  const stage = {
    id: 's',
    name: hostile,
    type: 'sh' as const,
    status: 'success' as const,
    exit_code: 0,
    oom_killed: false,
    timed_out: false,
    started_at: '2026-11-21T00:00:00.000Z',
    duration_ms: 1,
    outputs: {}
  }
  const result = {
    ...run([
      job('prep', 'prep', 'success', { outputs: { out: hostile }, stages: [stage] }),
      job('test (a)', 'test', 'success', { matrix: { os: hostile }, stages: [stage] })
    ]),
    pipeline: hostile
  }

  it('keeps every fence its own: the only lines that are fences are the diagrams', async () => {
    const text = await summaryMarkdown(plan, result, logs())
    expect(text.split('\n').filter((line) => line.includes('```'))).toEqual([
      '```mermaid',
      '```',
      '```mermaid',
      '```',
      '```mermaid',
      '```'
    ])
    // Outside the diagrams (code, not Markdown) no image or link can start.
    expect(text.replace(/```mermaid\n[^`]*\n```/g, '')).not.toMatch(/!\[|\]\(/)
    expect(text).toContain(
      '| test | os=x<br>&#96;&#96;&#96;<br>&#33;&#91;t&#93;(https://tracker.example/p.png) &#96;y&#96; &#124; "z" | ✅ success | 1.50 s | 0 |  |  |'
    )
    expect(text).toContain(
      '    x ˋˋˋ ![t](https꞉//tracker.example/p.png) ˋyˋ | "z" :done, 1795219200000, 1795219200001'
    )
  })
})
