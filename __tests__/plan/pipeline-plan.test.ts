import { mermaidDiagram } from '../../src/plan/mermaid.js'
import { planDocument } from '../../src/plan/plan-document.js'
import { planPipeline } from '../../src/plan/pipeline-plan.js'
import { planText } from '../../src/report/plan-text.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { resolveParams } from '../../src/pipeline/params.js'
import { formatProblem, PipelineFileError } from '../../src/pipeline/file-problems.js'

function plan(yaml: string, given: Record<string, unknown> = {}) {
  const pipeline = parsePipeline(yaml, 'p.yml', '/repo')
  const params = resolveParams(pipeline, given)
  return { plan: planPipeline(pipeline, params), params }
}

const box = 'runs-on: {with: {image: busybox}}'

describe('planPipeline', () => {
  it('expands a 3 x 4 matrix with one exclude and one include into exactly the expected instances, in order', () => {
    const { plan: p, params } = plan(`
jobs:
  test:
    strategy:
      matrix:
        os: [debian, alpine, fedora]
        py: ['3.9', '3.10', '3.11', '3.12']
        exclude: [{os: alpine, py: '3.9'}]
        include: [{os: windows, py: '3.12'}]
      max_parallel: 4
    runs-on: {with: {image: "{{ matrix.os }}:{{ matrix.py }}"}}
`)
    const doc = planDocument(p, params, {})
    const ids = doc.jobs[0].instances.map((i) => i.id)
    expect(ids).toEqual([
      'test (debian, 3.9)',
      'test (debian, 3.10)',
      'test (debian, 3.11)',
      'test (debian, 3.12)',
      'test (alpine, 3.10)',
      'test (alpine, 3.11)',
      'test (alpine, 3.12)',
      'test (fedora, 3.9)',
      'test (fedora, 3.10)',
      'test (fedora, 3.11)',
      'test (fedora, 3.12)',
      'test (windows, 3.12)'
    ])
    expect(doc.jobs[0].instances.map((i) => i.container.image.ref)).toContain('windows:3.12')
    expect(doc.jobs[0].instances[4].container.name).toBe('ctr-RUN-ID-test-5')
    expect(doc.jobs[0].max_parallel).toBe(4)
  })

  it('puts jobs in levels: a diamond has b and c side by side, and d after both', () => {
    const { plan: p } = plan(`
jobs:
  d: {needs: [b, c], ${box}}
  b: {needs: a, ${box}}
  c: {needs: a, ${box}}
  a: {${box}}
`)
    expect(p.jobs.map((j) => j.id)).toEqual(['a', 'b', 'c', 'd'])
    expect(p.levels).toEqual([['a'], ['b', 'c'], ['d']])
  })

  it('expands an axis given as an expression over params', () => {
    const { plan: p } = plan(
      `
params: {images: {type: list, default: [a, b]}}
jobs:
  t:
    strategy: {matrix: {image: "{{ params.images }}"}}
    ${box}
`,
      { images: '["x", "y", "z"]' }
    )
    expect(p.jobs[0].instances.map((i) => i.matrix)).toEqual([
      { image: 'x' },
      { image: 'y' },
      { image: 'z' }
    ])
  })

  it.each([
    [
      'too many instances, at the matrix',
      `jobs:\n  t:\n    strategy:\n      matrix: {a: [${range(20)}], b: [${range(13)}]}\n    ${box}\n`,
      'p.yml:4:7: jobs.t: the matrix makes 260 instances; at most 256 may run'
    ],
    [
      'an expression axis that is not a list',
      `params: {x: {default: abc}}\njobs:\n  t:\n    strategy: {matrix: {a: "{{ params.x }}"}}\n    ${box}\n`,
      `p.yml:4:16: jobs.t: axis 'a' ('{{ params.x }}') must give a non-empty list, not "abc"`
    ]
  ])('refuses %s', (_what, yaml, message) => {
    let error: unknown
    try {
      plan(yaml)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(PipelineFileError)
    expect((error as PipelineFileError).problems.map(formatProblem)).toEqual([message])
  })

  it('shows values known only at run time as written, and fills in params, matrix and ${VAR}', () => {
    const { plan: p, params } = plan(`
params: {tag: {default: v1}}
jobs:
  a: {${box}, outputs: {x: "1"}}
  b:
    needs: a
    runs-on:
      with:
        image: "app:{{ params.tag }}"
        container_name: "b-{run_id}"
        environment: {X: "{{ needs.a.outputs.x }}", K: "\${KEY}", R: "{{ run_id }}"}
`)
    const [, b] = planDocument(p, params, { KEY: 'k' }).jobs
    const { name, image, env } = b.instances[0].container
    expect(name).toBe('b-RUN-ID')
    expect(image.ref).toBe('app:v1')
    expect([env.X, env.K, env.R]).toEqual(['{{ needs.a.outputs.x }}', 'k', '{{ run_id }}'])
  })
})

describe('mermaidDiagram', () => {
  const { plan: p } = plan(`
jobs:
  prep: {${box}}
  "test": {needs: prep, strategy: {matrix: {n: [1, 2, 3]}}, ${box}}
  report: {needs: [test], ${box}}
`)
  it('draws a node per job (a matrix shows its size) and an edge per need', () => {
    expect(mermaidDiagram(p)).toBe(
      [
        'flowchart LR',
        '  j0["prep"]',
        '  j1["test ×3"]',
        '  j2["report"]',
        '  j0 --> j1',
        '  j1 --> j2'
      ].join('\n')
    )
  })

  it('colours nodes by outcome', () => {
    const diagram = mermaidDiagram(p, { prep: 'success', test: 'failure', report: 'skipped' })
    expect(diagram).toContain('  class j0 success')
    expect(diagram).toContain('  class j1 failure')
    expect(diagram).toContain('  class j2 skipped')
    expect(diagram).toMatch(/classDef failure fill:#ffebe9/)
  })
})

function range(n: number): string {
  return Array.from({ length: n }, (_, i) => i).join(', ')
}

describe('plan says whose defaults a matrix got, and shows on:', () => {
  const matrix = (top: string, strategy: string) => `${top}jobs:
  m:
    strategy: ${strategy}
    ${box}
`
  it.each([
    ['', '{matrix: {x: [1, 2]}}', 'GitHub', null, true],
    ['type: Workflow\n', '{matrix: {x: [1, 2]}}', 'ddeutil-workflow', 1, false],
    ['type: Workflow\n', '{matrix: {x: [1, 2]}, max-parallel: 2, fail-fast: true}', null, 2, true]
  ])('%j %s: %s', (top, strategy, defaults, maxParallel, failFast) => {
    const { plan: p, params } = plan(matrix(top, strategy))
    const [job] = planDocument(p, params, {}).jobs
    expect([job.strategy_defaults, job.max_parallel, job.fail_fast]).toEqual([
      defaults,
      maxParallel,
      failFast
    ])
  })

  it('writes them in the text a person reads', () => {
    const { plan: p, params } = plan(
      `type: Workflow\non: {schedule: [{cronjob: '0 2 * * *'}]}\n${matrix('', '{matrix: {x: [1, 2]}}')}`
    )
    expect(
      planText(planDocument(p, params, {}))
        .split('\n')
        .slice(0, 4)
    ).toEqual([
      'pipeline p.yml (p.yml)',
      'on: schedule 0 2 * * * (UTC) (run starts it now; an export schedules it)',
      'level 0:',
      "  m (max_parallel 1; fail_fast off; ddeutil-workflow's defaults for what strategy: leaves out)"
    ])
  })
})
