import { readFileSync } from 'node:fs'
import path from 'node:path'
import { printedBy, stageShape } from '../helpers/stage-shape.js'
import { BUSYBOX, leftovers, NOTHING_LEFT, PYTHON, runYaml } from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** A ddeutil workflow: one job `j` on `image` with `stages` (indented 6), and `extra` job keys. */
const workflow = (stages: string, image = PYTHON, extra = '') => `type: Workflow
name: nested
jobs:
  j:
    runs-on: {type: container, with: {image: ${image}}}${extra}
    stages:
${stages}`

const printed = (lines: string[]) => printedBy(lines, 'j')
const shape = stageShape

describe('stages that hold stages, in the job container (real engine)', () => {
  it("foreach: its items' outputs are read by the stages after it and the job's outputs", async () => {
    const { result, lines, runId } = await runYaml(
      workflow(
        `      - id: each
        foreach: [alpha, beta, gamma]
        concurrent: 2
        stages:
          - id: size
            run: |
              n = len("\${{ item }}")
              print(f"\${{ item }} has {n} letters (loop \${{ loop }})")
      - id: total
        run: |
          sizes = [v["stages"]["size"]["outputs"]["n"] for v in \${{ stages.each.outputs.foreach }}.values()]
          total = sum(int(s) for s in sizes)
          print("total", total)
`,
        PYTHON,
        "\n    outputs: {beta: '${{ stages.each.outputs.foreach.beta.stages.size.outputs.n }}'}"
      )
    )
    expect(result.status).toBe('success')
    expect(printed(lines).sort()).toEqual([
      '[j] alpha has 5 letters (loop 0)',
      '[j] beta has 4 letters (loop 1)',
      '[j] gamma has 5 letters (loop 2)',
      '[j] total 14'
    ])
    expect(result.jobs[0].outputs).toEqual({ beta: '4' })
    expect(shape(result.jobs[0].stages)).toEqual([
      [
        'each success',
        [
          ['alpha success', ['size success']],
          ['beta success', ['size success']],
          ['gamma success', ['size success']]
        ]
      ],
      'total success'
    ])
    expect(result.jobs[0].stages[0].nested![1].stages[0].outputs).toEqual({ n: '4' })
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('until: each time round hands its item on, until the condition holds', async () => {
    const { result, lines } = await runYaml(
      workflow(`      - id: double
        item: 1
        until: '\${{ item }} > 20'
        stages:
          - id: step
            run: |
              item = \${{ item }} * 2
              print("loop \${{ loop }}:", item)
`)
    )
    expect(result.status).toBe('success')
    expect(printed(lines)).toEqual([
      '[j] loop 1: 2',
      '[j] loop 2: 4',
      '[j] loop 3: 8',
      '[j] loop 4: 16',
      '[j] loop 5: 32'
    ])
    expect(result.jobs[0].stages[0].nested?.map((r) => r.item)).toEqual([1, 2, 4, 8, 16])
  })

  it('parallel: a failed branch fails the job with its exit code; the other branch runs to its end', async () => {
    const { result, lines, runId } = await runYaml(
      workflow(
        `      - id: side
        parallel:
          bad: [{id: s, bash: 'exit 4'}]
          good: [{id: s, bash: 'sleep 0.3; echo "good ran on \${{ branch }}"'}]
      - {id: after, bash: 'echo never'}
`,
        BUSYBOX
      )
    )
    expect(result.jobs[0].status).toBe('failure')
    expect(result.jobs[0].error).toBe(
      "stage 'side' failed: branch bad: stage 's' failed: exit code 4"
    )
    expect(result.jobs[0].exit_code).toBe(4)
    expect(printed(lines)).toEqual(['[j] good ran on good'])
    expect(shape(result.jobs[0].stages)).toEqual([
      [
        'side failure',
        [
          ['bad failure', ['s failure']],
          ['good success', ['s success']]
        ]
      ],
      'after skipped'
    ])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('case chooses by a param, and raise fails with its message', async () => {
    const text = (mode: string) => `type: Workflow
name: nested
params:
  mode: {type: str, default: ${mode}}
jobs:
  j:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - id: pick
        case: '\${{ params.mode }}'
        match:
          - case: quick
            stages: [{id: q, bash: 'echo "quick \${{ case }}"'}]
          - else:
              - {id: r, raise: 'mode \${{ params.mode }} is not known'}
`
    const quick = await runYaml(text('quick'))
    expect(quick.result.status).toBe('success')
    expect(printed(quick.lines)).toEqual(['[j] quick quick'])
    const other = await runYaml(text('full'))
    expect(other.result.jobs[0].error).toBe(
      "stage 'pick' failed: case _: stage 'r' failed: mode full is not known"
    )
  })

  it("a stage's timeout inside a loop ends that item as timed out, and the job with it", async () => {
    const started = Date.now()
    const { result, runId } = await runYaml(
      workflow(
        `      - id: each
        foreach: [1, 2]
        stages:
          - {id: slow, bash: 'sleep 30', timeout: 1s}
`,
        BUSYBOX
      )
    )
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(result.jobs[0].status).toBe('failure')
    // The stage timed out, not the job.
    expect(result.jobs[0].timed_out).toBe(false)
    expect(result.jobs[0].stages[0].timed_out).toBe(true)
    expect(result.jobs[0].error).toBe(
      "stage 'each' failed: item 1: stage 'slow' failed: timed out after 1s"
    )
    expect(shape(result.jobs[0].stages)).toEqual([
      [
        'each failure',
        [
          ['1 failure', ['slow failure']],
          ['2 cancelled', []]
        ]
      ]
    ])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it("the job's timeout stops a loop that never ends, and nothing is left", async () => {
    const { result, runId } = await runYaml(
      workflow(
        `      - id: forever
        until: 'False'
        max-loop: 99
        stages: [{id: wait, bash: 'sleep 0.5'}]
`,
        BUSYBOX,
        '\n    timeout: 2'
      )
    )
    expect(result.jobs[0].status).toBe('failure')
    expect(result.jobs[0].timed_out).toBe(true)
    expect(result.jobs[0].stages[0].timed_out).toBe(true)
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('an interrupt inside a loop cancels the run at once and leaves nothing', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 1500)
    const started = Date.now()
    const { result, runId } = await runYaml(
      workflow(
        `      - id: each
        foreach: [1, 2, 3]
        stages: [{id: wait, bash: 'sleep 30'}]
`,
        BUSYBOX
      ),
      { signal: controller.signal }
    )
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(result.status).toBe('cancelled')
    expect(shape(result.jobs[0].stages)).toEqual([
      [
        'each cancelled',
        [
          ['1 cancelled', ['wait cancelled']],
          ['2 cancelled', []],
          ['3 cancelled', []]
        ]
      ]
    ])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('the examples of docs/control-flow.md run as written (on the fixture image)', async () => {
    const page = readFileSync(
      path.resolve(import.meta.dirname, '../../docs/control-flow.md'),
      'utf8'
    )
    const blocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) =>
      m[1].replaceAll('python:3.12-slim', PYTHON)
    )
    expect(blocks.length).toBe(2)
    const fanOut = await runYaml(blocks[0])
    expect(fanOut.result.jobs.map((j) => [j.id, j.status])).toEqual([
      ['changed', 'success'],
      ['check (data/orders.csv)', 'success']
    ])
    expect(printedBy(fanOut.lines, 'check (data/orders.csv)')).toEqual([
      '[check (data/orders.csv)] checking data/orders.csv'
    ])
    const nested = await runYaml(blocks[1])
    expect(nested.result.status).toBe('success')
    // The two branches run side by side: their lines come in either order.
    expect(printedBy(nested.lines, 'load').sort()).toEqual([
      '[load] beta has 4',
      '[load] on left',
      '[load] on right'
    ])
    expect(
      stageShape(nested.result.jobs[0].stages).map((s) => (Array.isArray(s) ? s[0] : s))
    ).toEqual(['each success', 'double success', 'sides success', 'pick success'])
  })
})
