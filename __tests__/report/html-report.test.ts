import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { planPipeline } from '../../src/plan/pipeline-plan.js'
import { dagSvg } from '../../src/report/dag-svg.js'
import { htmlReport, logShare } from '../../src/report/html-report.js'
import { InstanceLogs } from '../../src/report/instance-logs.js'
import { tickLabel, tickStep, timelineSvg } from '../../src/report/timeline-svg.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { instance, run, stage } from '../helpers/results.js'

const BAD = '<script>alert("x")</script>'
const ESCAPED = '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;'

function planOf(jobs: string[]) {
  const text = ['name: checks', 'jobs:', ...jobs, ''].join('\n')
  return planPipeline(parsePipeline(text, 'checks.yml', '/repo'), {})
}
const IMAGE = '    runs-on: {with: {image: x}}\n    stages: [{name: s, type: sh, run: "true"}]'

/** prep, then a two-instance matrix job, then last. */
const PLAN = planOf([
  '  prep:',
  IMAGE,
  '  test:',
  '    needs: prep',
  '    strategy: {matrix: {os: [a, b]}}',
  IMAGE,
  '  last:',
  '    needs: test',
  IMAGE
])

const logs = () => new InstanceLogs(mkdtempSync(path.join(tmpdir(), 'ctr-report-test-')))
const between = (text: string, open: string, close: string) =>
  text.slice(text.indexOf(open) + open.length, text.indexOf(close))
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64')
const nodeBoxes = (svg: string) =>
  [...svg.matchAll(/<rect x="(\d+)" y="(\d+)" width="176"/g)].map((m) => [+m[1], +m[2]])

describe('dagSvg', () => {
  it.each([
    [
      'a chain',
      ['  a:', IMAGE, '  b:', '    needs: a', IMAGE, '  c:', '    needs: b', IMAGE],
      [
        [8, 8],
        [240, 8],
        [472, 8]
      ],
      'width="656" height="50"'
    ],
    [
      'a diamond: a job sits right of its deepest need',
      [
        '  a:',
        IMAGE,
        '  b:',
        '    needs: a',
        IMAGE,
        '  c:',
        '    needs: a',
        IMAGE,
        '  d:',
        '    needs: [b, c]',
        IMAGE
      ],
      [
        [8, 8],
        [240, 8],
        [240, 56],
        [472, 8]
      ],
      'width="656" height="98"'
    ],
    [
      'a need written later in the file (the plan puts it first)',
      ['  late:', '    needs: early', IMAGE, '  early:', IMAGE],
      [
        [8, 8],
        [240, 8]
      ],
      'width="424" height="50"'
    ]
  ])('%s', (_name, jobs, boxes, size) => {
    const svg = dagSvg(planOf(jobs), {})
    expect(nodeBoxes(svg)).toEqual(boxes)
    expect(svg).toContain(size)
  })

  it('colours nodes by outcome, counts a matrix, links to the first instance and draws a path per need', () => {
    const svg = dagSvg(PLAN, { prep: 'success', test: 'failure' })
    expect(svg).toContain(
      '<a href="#i-prep"><g class="node st-success"><title>prep: success</title>'
    )
    expect(svg).toContain(
      '<a href="#i-test-1"><g class="node st-failure"><title>test ×2: failure</title>'
    )
    expect(svg).toContain(
      '<path class="edge" d="M184 25C210 25 210 25 236 25" marker-end="url(#arrow)"/>'
    )
    expect(dagSvg(PLAN, {})).toContain('<g class="node st-none"><title>prep</title>')
  })
})

describe('timelineSvg', () => {
  it.each([
    [999, 200],
    [4000, 500],
    [5000, 1000],
    [60_000, 10_000],
    [3_600_000, 500_000]
  ])('a span of %i ms gets ticks every %i ms', (span, step) => {
    expect(tickStep(span)).toBe(step)
  })

  it.each([
    [0, '0 s'],
    [500, '0.5 s'],
    [59_000, '59 s'],
    [60_000, '1:00'],
    [754_000, '12:34']
  ])('a tick at %i ms reads %s', (ms, label) => {
    expect(tickLabel(ms)).toBe(label)
  })

  it('places bars and stage segments in time, and links labels to logs', () => {
    const result = run([
      instance('build', 'build', 'success', 1000, 2000, [stage('compile', 'success', 1500, 500)]),
      instance('never', 'never', 'skipped', null, 0)
    ])
    const svg = timelineSvg(result, (job) => `slug-${job.id}`)
    // 760 px for the run's 5 s, after a 230 px label column.
    expect(svg).toContain(
      '<rect class="bar st-success" x="382" y="24" width="304" height="12" rx="2">'
    )
    expect(svg).toContain('<title>build: success, 2.00 s, from +1.00 s</title>')
    expect(svg).toContain('<rect class="seg st-success" x="458" y="27" width="76" height="6">')
    expect(svg).toContain('<a href="#log-slug-build"><text class="label"')
    expect(svg).not.toContain('never')
    expect([...svg.matchAll(/class="tick-label"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual([
      '0 s',
      '1 s',
      '2 s',
      '3 s',
      '4 s',
      '5 s'
    ])
    expect(timelineSvg(run([instance('never', 'never', 'skipped', null, 0)]), () => '')).toBe('')
  })
})

describe('htmlReport', () => {
  const result = {
    ...run([
      instance(
        'prep',
        'prep',
        'success',
        0,
        1000,
        [stage('s', 'success', 100, 800, { exit_code: 0, outputs: { rows: '5' } })],
        { exit_code: 0, outputs: { rows: '5' } }
      ),
      instance(
        'test (a)',
        'test',
        'success',
        1000,
        500,
        [stage('s', 'success', 1100, 300, { exit_code: 0 })],
        { matrix: { os: 'a' }, exit_code: 0 }
      ),
      instance(
        'test (b)',
        'test',
        'failure',
        1000,
        900,
        [
          stage('s', 'failure', 1100, 700, {
            exit_code: 137,
            oom_killed: true,
            error: `exit code 137 ${BAD}`,
            annotations: [
              { level: 'warning', message: BAD, file: '/repo/data/a.csv', line: 3, title: 'Row' }
            ]
          })
        ],
        { matrix: { os: BAD }, exit_code: 137, oom_killed: true, error: 'killed for memory' }
      ),
      instance('last', 'last', 'skipped', null, 0, [], {
        error: "skipped: needed job 'test' did not succeed"
      })
    ]),
    pipeline: `checks ${BAD}`
  }

  it('is one page whose policy allows only its own style and script, and loads nothing', async () => {
    const page = await htmlReport(PLAN, result, logs(), { baseDir: '/repo' })
    const css = between(page, '<style>', '</style>')
    const script = between(page, '<script>', '</script>')
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-${sha256(css)}'; script-src 'sha256-${sha256(script)}'; base-uri 'none'; form-action 'none'">`
    )
    expect(page.match(/<script/g)).toHaveLength(1)
    expect(page).not.toMatch(/ (src|href)="(?!#)/)
    expect(page).not.toContain(' style="')
  })

  it('escapes what the run wrote: names, matrix values, errors, annotations and logs', async () => {
    const kept = logs()
    kept.append('test-2', `line one\n${BAD}`)
    const page = await htmlReport(PLAN, result, kept, { baseDir: '/repo' })
    expect(page).toContain(`<title>checks ${ESCAPED}: failure · ctr-pipeline</title>`)
    expect(page).toContain(`<td>os=${ESCAPED}</td>`)
    expect(page).toContain(`<div class="err">exit code 137 ${ESCAPED}</div>`)
    expect(page).toContain(
      `<li><span class="badge st-cancelled">warning</span> <code>data/a.csv:3</code> in test (b): <strong>Row</strong>: ${ESCAPED}</li>`
    )
    expect(page).toContain(`<pre>line one\n${ESCAPED}</pre>`)
  })

  it('has a row per instance and per stage, with its figures', async () => {
    const page = await htmlReport(PLAN, result, logs(), { baseDir: '/repo' })
    expect(page.match(/<tr class="instance /g)).toHaveLength(4)
    expect(page.match(/<tr class="stage /g)).toHaveLength(3)
    expect(page).toContain(
      '<tr class="instance st-success" id="i-prep" data-status="success"><td><a href="#log-prep">prep</a></td><td></td><td><span class="badge st-success">success</span></td><td class="num">+0.00 s</td><td class="num">1.00 s</td><td class="num">0</td><td></td><td><div class="out mono">rows=5</div></td></tr>'
    )
    expect(page).toContain(
      '<tr class="stage st-failure" data-status="failure"><td>s <span class="muted">(sh)</span></td><td></td><td><span class="badge st-failure">failure</span><div class="err">exit code 137 ' +
        ESCAPED +
        '</div></td><td class="num">+1.10 s</td><td class="num">0.70 s</td><td class="num">137</td><td>killed for memory</td><td></td></tr>'
    )
    expect(page).toContain(
      `<tr class="instance st-skipped" id="i-last" data-status="skipped"><td><a href="#log-last">last</a></td><td></td><td><span class="badge st-skipped">skipped</span><div class="err">skipped: needed job &#39;test&#39; did not succeed</div></td><td class="num"></td><td class="num"></td><td class="num"></td><td></td><td></td></tr>`
    )
    expect(page).toContain(
      '4 job instances, 2 success, 1 failure, 1 skipped; started 2026-12-05T10:00:00.000Z, took 5.00 s.'
    )
  })

  it('opens the logs of failed instances only, and says which did not run or print', async () => {
    const page = await htmlReport(PLAN, result, logs(), { baseDir: '/repo' })
    const opened = [...page.matchAll(/<details class="log[^"]*" id="([^"]+)"[^>]*?( open)?>/g)]
    expect(opened.map((m) => [m[1], m[2] === ' open'])).toEqual([
      ['log-prep', false],
      ['log-test-1', false],
      ['log-test-2', true],
      ['log-last', false]
    ])
    expect(page).toContain(
      'id="log-prep" data-id="prep" data-status="success"><summary><span class="badge st-success">success</span> <span class="mono">prep</span></summary><pre>(no output)</pre>'
    )
    expect(page).toContain('<pre>(did not run)</pre>')
  })

  it("keeps a long log's end, whole lines only, and says how much was left out", async () => {
    const kept = logs()
    for (let i = 0; i < 40; i++)
      kept.append('test-2', `${String(i).padStart(2, '0')}${'x'.repeat(998)}`)
    const page = await htmlReport(PLAN, result, kept, { logBudgetBytes: 1 })
    expect(page).toContain(
      '<p class="muted">The log has 40040 bytes: its last 32031 are shown.</p><pre>08x'
    )
  })

  it.each([
    [1, 1024 * 1024],
    [16, 1024 * 1024],
    [32, 512 * 1024],
    [256, 64 * 1024],
    [1000, 32 * 1024],
    [0, 1024 * 1024]
  ])('with %i instances each log keeps %i bytes', (instances, bytes) => {
    expect(logShare(instances)).toBe(bytes)
  })
})
