import { printedBy, stageShape } from '../helpers/stage-shape.js'
import type { FakeProcessInfo } from '../../src/backend/fake/fake-script.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { formatProblem, PipelineFileError } from '../../src/pipeline/file-problems.js'
import { variableUses } from '../../src/pipeline/variables.js'
import { parse } from 'yaml'
import { run } from '../helpers/fake-run.js'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { preparePlan } from '../../src/app/prepare-plan.js'
import { htmlReport } from '../../src/report/html-report.js'
import { InstanceLogs } from '../../src/report/instance-logs.js'
import { summaryMarkdown } from '../../src/report/step-summary.js'

/** A ddeutil workflow with one job whose stages are `stages` (YAML, indented 6). */
const workflow = (stages: string, head = '') => `type: Workflow
name: w
${head}jobs:
  j:
    runs-on: {type: container, with: {image: img}}
    stages:
${stages}`

/** A stage that prints its `SAY` variable, as `echo "$SAY"` would. */
const say = ({ env }: FakeProcessInfo) => (env.SAY === undefined ? {} : { stdout: `${env.SAY}\n` })

const printed = (lines: string[]) => printedBy(lines, 'j')
const shape = stageShape

function problemsOf(text: string): string[] {
  try {
    parsePipeline(text, 'p.yml', '/repo')
    return []
  } catch (error) {
    if (!(error instanceof PipelineFileError)) throw error
    return error.problems.map(formatProblem)
  }
}

describe('stages that hold stages: the file', () => {
  it('tells each kind by its keys, as ddeutil-workflow does, and reads its settings', () => {
    const pipeline = parsePipeline(
      workflow(
        `      - id: each
        foreach: '\${{ params.files }}'
        concurrent: 3
        use_index_as_key: true
        stages: [{id: a, echo: x}]
      - id: again
        item: 1
        until: '\${{ item }} > 2'
        max-loop: 4
        stages: [{id: b, echo: x}]
      - id: side
        parallel: {left: [{id: c, echo: x}], right: [{id: c, echo: y}]}
        max-workers: 3
      - id: pick
        case: '\${{ params.mode }}'
        skip-not-match: true
        match:
          - {case: full, stages: [{id: d, echo: x}]}
          - {case: _, stages: [{id: e, echo: x}]}
      - id: stop
        raise: 'no data for \${{ params.mode }}'
`,
        'params:\n  files: {type: str, default: "[1]"}\n  mode: {type: str, default: full}\n'
      ),
      'p.yml',
      '/repo'
    )
    const stages = pipeline.jobs[0].stages!
    expect(stages.map((s) => [s.id, s.type])).toEqual([
      ['each', 'foreach'],
      ['again', 'until'],
      ['side', 'parallel'],
      ['pick', 'case'],
      ['stop', 'raise']
    ])
    const ids = (list: readonly { id: string }[]) => list.map((s) => s.id)
    const [each, again, side, pick, stop] = stages.map((s) => s.nested)
    expect(each).toMatchObject({ items: '${{ params.files }}', concurrent: 3, useIndexAsKey: true })
    expect(again).toMatchObject({ item: 1, until: '${{ item }} > 2', maxLoop: 4 })
    expect(side?.type === 'parallel' && side.branches.map((b) => [b.name, ids(b.stages)])).toEqual([
      ['left', ['c']],
      ['right', ['c']]
    ])
    expect(side).toMatchObject({ maxWorkers: 3 })
    expect(pick?.type === 'case' && pick.match.map((m) => [m.case, ids(m.stages)])).toEqual([
      ['full', ['d']],
      [undefined, ['e']]
    ])
    expect(pick).toMatchObject({ value: '${{ params.mode }}', skipNotMatch: true })
    expect(stop).toBeUndefined()
    expect(stages[4].raise).toBe('no data for ${{ params.mode }}')
  })

  it('takes the defaults ddeutil-workflow takes', () => {
    const [each, again, side, pick] = parsePipeline(
      workflow(`      - {id: a, foreach: [1, 2], stages: []}
      - {id: b, until: 'true', stages: []}
      - {id: c, parallel: {x: []}}
      - {id: d, case: x, match: [{else: []}]}
`),
      'p.yml',
      '/repo'
    ).jobs[0].stages!.map((s) => s.nested)
    expect(each).toMatchObject({ items: [1, 2], concurrent: 1, useIndexAsKey: false })
    expect(again).toMatchObject({ item: 0, maxLoop: 10 })
    expect(side).toMatchObject({ maxWorkers: 2 })
    expect(pick).toMatchObject({ skipNotMatch: false, match: [{ stages: [] }] })
  })

  it.each([
    [
      'item outside a foreach or until',
      `      - {id: a, echo: '\${{ item }}'}\n`,
      "p.yml:7:24: jobs.j.stages[0].echo: '${{ item }}': 'item' cannot be read here (available: params, matrix, run_id, job, needs, stages)"
    ],
    [
      'branch inside a foreach',
      `      - {id: a, foreach: [1], stages: [{id: b, echo: '\${{ branch }}'}]}\n`,
      "p.yml:7:55: jobs.j.stages[0].stages[0].echo: '${{ branch }}': 'branch' cannot be read here (available: params, matrix, run_id, job, needs, stages, item, loop)"
    ],
    [
      'an inner stage that has not run yet',
      `      - id: a
        foreach: [1]
        stages:
          - {id: b, echo: '\${{ stages.c.outputs.x }}'}
          - {id: c, echo: x}
`,
      "p.yml:10:28: jobs.j.stages[0].stages[0].echo: '${{ stages.c.outputs.x }}': stage 'c' has not run yet here (a stage reads the stages before it)"
    ],
    [
      'two inner stages with one id',
      `      - {id: a, parallel: {x: [{id: b, echo: x}, {id: b, echo: y}]}}\n`,
      "p.yml:7:50: jobs.j.stages[0].parallel.x[1]: stage 1 of this list already has the id 'b'; give one an 'id:'"
    ],
    [
      "a foreach's key on a stage of another kind",
      `      - {id: a, type: sh, run: 'true', foreach: [1]}\n`,
      "p.yml:7:40: jobs.j.stages[0]: 'foreach' is for a foreach stage, not a sh one"
    ],
    [
      "a parallel's key on a foreach",
      `      - {id: a, foreach: [1], stages: [], max-workers: 3}\n`,
      "p.yml:7:43: jobs.j.stages[0]: 'max_workers' is for a parallel stage, not a foreach one"
    ],
    [
      'stages on a case',
      `      - {id: a, case: x, match: [{else: []}], stages: []}\n`,
      "p.yml:7:47: jobs.j.stages[0]: 'stages' is for a foreach or an until stage, not a case one"
    ],
    [
      'concurrent out of range',
      `      - {id: a, foreach: [1], concurrent: 10, stages: []}\n`,
      'p.yml:7:43: jobs.j.stages[0].concurrent must be at most 9, not number 10'
    ]
  ])('refuses %s, at its place', (_, stages, message) => {
    expect(problemsOf(workflow(stages))).toEqual([message])
  })

  it('an inner stage reads the stages before its holder, and its own list before it', () => {
    expect(
      problemsOf(
        workflow(`      - {id: first, echo: x}
      - id: a
        foreach: [1]
        stages:
          - {id: b, echo: '\${{ stages.first.outputs.x }} \${{ item }} \${{ loop }}'}
          - {id: c, echo: '\${{ stages.b.outputs.x }}'}
      - {id: after, echo: '\${{ stages.a.outputs.foreach }}'}
`)
      )
    ).toEqual([])
  })

  it("finds the ${VAR}s of inner stages: their values are masked, and held to untrusted mode's list", () => {
    const text = workflow(`      - id: a
        foreach: ['\${TOKEN}']
        stages:
          - {id: b, type: bash, run: 'echo \${HOME}'}
          - id: c
            case: '\${MODE}'
            match: [{case: '\${OTHER}', stages: [{id: d, raise: '\${WHY}'}]}]
`)
    expect(variableUses(parse(text), 'ddeutil').map((u) => [u.name, u.at.join('.')])).toEqual([
      ['TOKEN', 'jobs.j.stages.0.foreach.0'],
      ['HOME', 'jobs.j.stages.0.stages.0.run'],
      ['MODE', 'jobs.j.stages.0.stages.1.case'],
      ['OTHER', 'jobs.j.stages.0.stages.1.match.0.case'],
      ['WHY', 'jobs.j.stages.0.stages.1.match.0.stages.0.raise']
    ])
  })
})

describe('stages that hold stages: the run, on the fake backend', () => {
  it('foreach runs its stages per item, concurrent at a time, and its outputs read as ddeutil shows them', async () => {
    const { result, lines, backend } = await run(
      workflow(`      - id: each
        foreach: [a, b, c, d]
        concurrent: 2
        stages:
          - {id: work, bash: work, env: {SAY: '\${{ item }}/\${{ loop }}', N: '\${{ item }}'}}
      - {id: show, bash: show, env: {SAY: "\${{ stages.each.outputs.items }} \${{ stages.each.outputs.foreach.c.stages.work.outputs.n }}"}}
`),
      {
        process: (info) => ({
          delayMs: info.env.N ? 30 : 0,
          ...say(info),
          ...(info.env.N ? { outputs: { n: info.env.N.toUpperCase() } } : {})
        })
      }
    )
    expect(result.status).toBe('success')
    expect(backend.peakRunning).toBe(2)
    expect(shape(result.jobs[0].stages)).toEqual([
      [
        'each success',
        [
          ['a success', ['work success']],
          ['b success', ['work success']],
          ['c success', ['work success']],
          ['d success', ['work success']]
        ]
      ],
      'show success'
    ])
    expect(printed(lines).sort()).toEqual(
      ['[j] a/0', '[j] b/1', '[j] c/2', '[j] d/3', "[j] ['a', 'b', 'c', 'd'] C"].sort()
    )
    expect(lines).toContain('[j] stage each[b] > work (bash)')
  })

  it('foreach: the first failed item stops those not started, and fails the stage and the job naming it', async () => {
    const { result } = await run(
      workflow(`      - id: each
        foreach: [1, 2, 3, 4]
        concurrent: 2
        stages:
          - {id: work, bash: work, env: {N: '\${{ item }}'}}
          - {id: next, bash: next}
`),
      {
        process: (info) =>
          info.env.N === '2' ? { exitCode: 3 } : { delayMs: info.env.N === '1' ? 50 : 0 }
      }
    )
    expect(result.jobs[0].status).toBe('failure')
    expect(result.jobs[0].error).toBe(
      "stage 'each' failed: item 2: stage 'work' failed: exit code 3"
    )
    expect(result.jobs[0].exit_code).toBe(3)
    // Item 1 was running: it ends its stage, then stops; 3 and 4 never start.
    expect(shape(result.jobs[0].stages)).toEqual([
      [
        'each failure',
        [
          ['1 cancelled', ['work success', 'next cancelled']],
          ['2 failure', ['work failure', 'next skipped']],
          ['3 cancelled', []],
          ['4 cancelled', []]
        ]
      ]
    ])
  })

  it('until repeats its stages with the item they hand on, and fails after max-loop', async () => {
    const counting = workflow(`      - id: count
        item: 1
        until: '\${{ item }} >= 4'
        stages:
          - {id: inc, bash: inc, env: {SAY: 'loop \${{ loop }} item \${{ item }}', I: '\${{ item }}'}}
`)
    const { result, lines } = await run(counting, {
      process: (info) => ({ ...say(info), outputs: { item: String(Number(info.env.I) + 1) } })
    })
    expect(result.status).toBe('success')
    expect(printed(lines)).toEqual(['[j] loop 1 item 1', '[j] loop 2 item 2', '[j] loop 3 item 3'])
    expect(result.jobs[0].stages[0].nested?.map((r) => [r.key, r.loop, r.item])).toEqual([
      ['1', 1, 1],
      ['2', 2, 2],
      ['3', 3, 3]
    ])
    const endless = await run(counting.replace('        item: 1\n', '        max-loop: 2\n'), {
      process: () => ({ outputs: { item: '0' } })
    })
    expect(endless.result.jobs[0].error).toBe(
      "stage 'count' failed: until '${{ item }} >= 4' did not hold after 2 times round (max_loop)"
    )
  })

  it('parallel runs every branch to its end, max-workers at a time; one failed branch fails the stage', async () => {
    const { result, backend } = await run(
      workflow(`      - id: side
        max-workers: 2
        parallel:
          a: [{id: s, bash: s, env: {B: '\${{ branch }}'}}]
          b: [{id: s, bash: s, env: {B: '\${{ branch }}'}}]
          c: [{id: s, bash: s, env: {B: '\${{ branch }}'}}]
`),
      { process: (info) => (info.env.B === 'a' ? { exitCode: 1 } : { delayMs: 30 }) }
    )
    expect(backend.peakRunning).toBe(2)
    expect(result.jobs[0].error).toBe(
      "stage 'side' failed: branch a: stage 's' failed: exit code 1"
    )
    expect(shape(result.jobs[0].stages)).toEqual([
      [
        'side failure',
        [
          ['a failure', ['s failure']],
          ['b success', ['s success']],
          ['c success', ['s success']]
        ]
      ]
    ])
  })

  it.each([
    ['full', [['full success', ['f success']]]],
    ['other', [['_ success', ['e success']]]],
    ['2', [['2 success', ['n success']]]]
  ])(
    'case %s runs the match whose value equals it (numbers by value), else the else',
    async (mode, runs) => {
      const { result } = await run(
        workflow(
          `      - id: pick
        case: '\${{ params.mode }}'
        match:
          - {case: full, stages: [{id: f, echo: full}]}
          - {case: 2, stages: [{id: n, echo: two}]}
          - {else: [{id: e, echo: else}]}
`,
          `params:\n  mode: {type: ${mode === '2' ? 'int' : 'str'}, default: ${mode}}\n`
        )
      )
      expect(result.status).toBe('success')
      expect(shape(result.jobs[0].stages)).toEqual([['pick success', runs]])
    }
  )

  it('case matches an output, which is text, against the number it spells', async () => {
    const { result } = await run(
      workflow(`      - {id: count, bash: count}
      - id: pick
        case: '\${{ stages.count.outputs.n }}'
        match:
          - {case: 1, stages: [{id: one, echo: one}]}
          - {case: 2, stages: [{id: two, echo: two}]}
`),
      { process: () => ({ outputs: { n: '2' } }) }
    )
    expect(shape(result.jobs[0].stages)).toEqual([
      'count success',
      ['pick success', [['2 success', ['two success']]]]
    ])
  })

  it('case with no match and no else fails, or with skip-not-match is skipped', async () => {
    const stages = (skip: string) => `      - id: pick
        case: nothing${skip}
        match: [{case: full, stages: [{id: f, echo: full}]}]
      - {id: after, echo: after}
`
    const failed = await run(workflow(stages('')))
    expect(failed.result.jobs[0].error).toBe(
      `stage 'pick' failed: no case matches "nothing", and it has no else (skip_not_match: true skips it instead)`
    )
    const skipped = await run(workflow(stages('\n        skip-not-match: true')))
    expect(skipped.result.status).toBe('success')
    expect(shape(skipped.result.jobs[0].stages)).toEqual([['pick skipped', []], 'after success'])
  })

  it("reads ${VAR} in a ddeutil workflow's case, items and raise, as in its scripts", async () => {
    const { result } = await run(
      workflow(`      - id: pick
        case: '\${MODE}'
        match:
          - case: full
            stages:
              - {id: each, foreach: ['\${FIRST}', b], stages: [{id: e, echo: '\${{ item }}'}]}
          - else: [{id: r, raise: 'unknown mode \${MODE}'}]
`),
      {},
      { env: { MODE: 'full', FIRST: 'a' } }
    )
    expect(result.status).toBe('success')
    expect(result.jobs[0].stages[0].nested![0].stages[0].nested!.map((r) => r.key)).toEqual([
      'a',
      'b'
    ])
    const other = await run(
      workflow(`      - {id: r, raise: 'unknown mode \${MODE}'}\n`),
      {},
      { env: { MODE: 'fast' } }
    )
    expect(other.result.jobs[0].error).toBe("stage 'r' failed: unknown mode fast")
  })

  it('foreach takes text that is a JSON or a Python list, as ddeutil reads an output', async () => {
    const { result } = await run(
      workflow(`      - {id: ls, bash: ls}
      - id: each
        foreach: '\${{ stages.ls.outputs.files }}'
        stages: [{id: e, echo: '\${{ item }}'}]
`),
      { process: () => ({ outputs: { files: "['a.csv', 'b.csv']" } }) }
    )
    expect(result.jobs[0].stages[1].nested?.map((r) => r.key)).toEqual(['a.csv', 'b.csv'])
    const text = await run(
      workflow(`      - {id: each, foreach: 'a.csv b.csv', stages: [{id: e, echo: x}]}\n`)
    )
    expect(text.result.jobs[0].error).toBe(
      `stage 'each' failed: foreach gives "a.csv b.csv", not a list of items`
    )
  })

  it('raise fails the stage with its message, rendered', async () => {
    const { result } = await run(
      workflow(
        `      - {id: stop, raise: 'no data for \${{ params.day }}'}\n`,
        'params:\n  day: {type: str, default: monday}\n'
      )
    )
    expect(result.jobs[0].error).toBe("stage 'stop' failed: no data for monday")
  })

  it('an interrupt inside a loop cancels what is running and everything after it', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const { result } = await run(
      workflow(`      - id: each
        foreach: [1, 2, 3]
        stages: [{id: work, bash: work}]
      - {id: after, echo: after}
`),
      { process: () => ({ delayMs: 5000 }) },
      { signal: controller.signal }
    )
    expect(result.status).toBe('cancelled')
    expect(shape(result.jobs[0].stages)).toEqual([
      [
        'each cancelled',
        [
          ['1 cancelled', ['work cancelled']],
          ['2 cancelled', []],
          ['3 cancelled', []]
        ]
      ],
      'after cancelled'
    ])
  })

  it("the report shows each run of a holding stage as nested rows, and the summary its stages' annotations", async () => {
    const text = workflow(`      - id: each
        foreach: [a]
        stages:
          - {id: check, bash: check}
`)
    const { result } = await run(text, {
      process: () => ({})
    })
    // An annotation an inner stage wrote, as the stage runner keeps it.
    result.jobs[0].stages[0].nested![0].stages[0].annotations = [
      { level: 'error', message: 'bad row', file: 'data/a.csv', line: 3 }
    ]
    const { plan } = preparePlan(parsePipeline(text, 'pipeline.yml', '/repo'), {})
    const logs = () => new InstanceLogs(mkdtempSync(path.join(tmpdir(), 'ctr-nested-')))
    const page = await htmlReport(plan, result, logs(), { baseDir: '/repo' })
    expect(page).toContain(
      '<td><span class="nest1">each[a] &#62; check</span> <span class="muted">(bash)</span></td>'
    )
    const summary = await summaryMarkdown(plan, result, logs(), { baseDir: '/repo' })
    expect(summary).toContain('- ❌ data/a.csv:3 error in j: bad row')
  })
})
