import { EmptyMatrixError, MatrixError } from '../../src/plan/matrix.js'
import { matrixRows, planPipeline } from '../../src/plan/pipeline-plan.js'
import { planDocument } from '../../src/plan/plan-document.js'
import { planText } from '../../src/report/plan-text.js'
import { mermaidDiagram } from '../../src/plan/mermaid.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { expressionScope } from '../../src/pipeline/expression.js'
import { evaluateValue } from '../../src/pipeline/template.js'
import { formatProblem, PipelineFileError } from '../../src/pipeline/file-problems.js'
import { run, statuses } from '../helpers/fake-run.js'
import { preparePlan } from '../../src/app/prepare-plan.js'
import { FakeBackend } from '../../src/backend/fake/fake-backend.js'
import { InputError } from '../../src/pipeline/input-error.js'
import { ConsoleReporter } from '../../src/report/console-reporter.js'
import { runPipeline } from '../../src/scheduler/pipeline-runner.js'

/** A `list` job whose `found` output is the fake's `found`, and a `check` job with `strategy`. */
const pipeline = (strategy: string, checkExtra = '') => `jobs:
  list:
    runs-on: {with: {image: img}}
    outputs: {found: "{{ stages.ls.outputs.found }}"}
    stages: [{id: ls, type: sh, run: work}]
  check:
    needs: [list]
    runs-on: {with: {image: img}}
    strategy: ${strategy}
    stages: [{name: s, type: sh, run: work, env: {SAY: "{{ toJSON(matrix) }}"}}]${checkExtra}
`

/** Runs `pipeline(strategy)` with `found` as list's output. */
const runWith = (found: string, strategy: string, options: { delayMs?: number } = {}) =>
  run(
    pipeline(strategy),
    {
      process: ({ stage }) =>
        stage === 'ls' ? { outputs: { found } } : { delayMs: options.delayMs ?? 0 }
    },
    { maxParallel: 8 }
  )

describe('a matrix made of upstream outputs: the file', () => {
  it.each([
    ['an axis', '{matrix: {f: "{{ fromJSON(needs.list.outputs.found) }}"}}'],
    ['include', '{matrix: {include: "${{ fromJSON(needs.list.outputs.found) }}"}}'],
    ['the whole matrix', '{matrix: "{{ fromJSON(needs.list.outputs.found) }}"}'],
    [
      'exclude beside a written axis',
      '{matrix: {f: [a], exclude: "{{ fromJSON(needs.list.outputs.found) }}"}}'
    ]
  ])('%s: the job has no instances in the plan, and says after which job', (_, strategy) => {
    const p = parsePipeline(pipeline(strategy), 'p.yml', '/repo')
    const plan = planPipeline(p, {})
    expect(plan.jobs[1].after).toEqual(['list'])
    expect(plan.jobs[1].instances).toEqual([])
    const doc = planDocument(plan, {}, {})
    expect(doc.jobs[1].instances_after).toEqual(['list'])
    expect(doc.jobs[0].instances_after).toBeNull()
    expect(mermaidDiagram(plan).split('\n').slice(1, 3)).toEqual([
      '  j0["list"]',
      '  j1["check ×?"]'
    ])
    expect(planText(doc).split('\n').slice(-2)).toEqual([
      "  check (needs list; fail_fast on; GitHub's defaults for what strategy: leaves out)",
      '    instances known after list'
    ])
  })

  it.each([
    [
      'a job that is not upstream',
      `jobs:
  list: {runs-on: {with: {image: img}}, outputs: {found: x}, stages: [{type: sh, run: x}]}
  check:
    runs-on: {with: {image: img}}
    strategy: {matrix: {f: "{{ fromJSON(needs.list.outputs.found) }}"}}
`,
      "p.yml:5:29: jobs.check.strategy.matrix.f: '{{ fromJSON(needs.list.outputs.found) }}': job 'list' is not upstream of 'check': add it to needs"
    ],
    [
      'an output the need does not declare',
      `jobs:
  list: {runs-on: {with: {image: img}}, outputs: {found: x}, stages: [{type: sh, run: x}]}
  check:
    needs: list
    runs-on: {with: {image: img}}
    strategy: {matrix: {f: "{{ fromJSON(needs.list.outputs.fonud) }}"}}
`,
      "p.yml:6:29: jobs.check.strategy.matrix.f: '{{ fromJSON(needs.list.outputs.fonud) }}': job 'list' declares no output 'fonud' (did you mean 'found'?)"
    ],
    [
      'stages',
      `jobs:
  check:
    runs-on: {with: {image: img}}
    strategy: {matrix: {f: "{{ stages.a.outputs.x }}"}}
`,
      "p.yml:4:29: jobs.check.strategy.matrix.f: '{{ stages.a.outputs.x }}': stages cannot be read here: the matrix is expanded before the job starts"
    ]
  ])('refuses a matrix that reads %s, at its place', (_, yaml, message) => {
    let error: unknown
    try {
      parsePipeline(yaml, 'p.yml', '/repo')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(PipelineFileError)
    expect((error as PipelineFileError).problems.map(formatProblem)).toEqual([message])
  })

  it('a matrix keyed by rows from an expression may be read by any key', () => {
    const p = parsePipeline(
      pipeline(
        '{matrix: {include: "{{ fromJSON(needs.list.outputs.found) }}"}}',
        '\n    outputs: {o: "{{ matrix.anything }}"}'
      ),
      'p.yml',
      '/repo'
    )
    expect(p.jobs[1].strategy?.matrix?.include).toBe('{{ fromJSON(needs.list.outputs.found) }}')
  })
})

describe('matrixRows: what the outputs make', () => {
  const job = (strategy: string) =>
    parsePipeline(pipeline(strategy), 'p.yml', '/repo').jobs.find((j) => j.id === 'check')!
  const rows = (strategy: string, found: string) =>
    matrixRows(job(strategy), (text) =>
      evaluateValue(
        text,
        expressionScope({ needs: { list: { outputs: { found }, result: 'success' } } })
      )
    )
  const axis = '{matrix: {f: "{{ fromJSON(needs.list.outputs.found) }}"}}'
  const whole = '{matrix: "{{ fromJSON(needs.list.outputs.found) }}"}'
  const include = '{matrix: {include: "{{ fromJSON(needs.list.outputs.found) }}"}}'

  it.each([
    [
      'a list of scalars as an axis',
      axis,
      '["a.csv", 2, true]',
      [{ f: 'a.csv' }, { f: 2 }, { f: true }]
    ],
    ['a list of objects as an axis', axis, '[{"n": 1}]', [{ f: { n: 1 } }]],
    [
      'a list of rows as the whole matrix',
      whole,
      '[{"os": "a"}, {"os": "b", "x": 1}]',
      [{ os: 'a' }, { os: 'b', x: 1 }]
    ],
    [
      'an object of axes and include as the whole matrix',
      whole,
      '{"os": ["a", "b"], "include": [{"os": "b", "big": true}]}',
      [{ os: 'a' }, { os: 'b', big: true }]
    ],
    ['rows as include', include, '[{"file": "x"}, {"file": "y"}]', [{ file: 'x' }, { file: 'y' }]]
  ])('%s', (_, strategy, found, expected) => {
    expect(rows(strategy, found)).toEqual(expected)
  })

  it.each([
    ['an empty list as an axis', axis, '[]'],
    ['an empty list as the whole matrix', whole, '[]'],
    ['an empty list as include', include, '[]']
  ])('%s makes no instance (EmptyMatrixError)', (_, strategy, found) => {
    expect(() => rows(strategy, found)).toThrow(EmptyMatrixError)
  })

  const long = JSON.stringify({ files: Array.from({ length: 40 }, (_, i) => `data/file-${i}.csv`) })
  it.each([
    [
      'an object as an axis',
      axis,
      long,
      `axis 'f' ('{{ fromJSON(needs.list.outputs.found) }}') must give a non-empty list, not ${long.slice(0, 120)}… (${long.length} characters)`
    ],
    [
      'a list of scalars as include',
      include,
      '["a"]',
      `include ('{{ fromJSON(needs.list.outputs.found) }}') must give a list of objects, not ["a"]`
    ],
    [
      'text as the whole matrix',
      whole,
      '"a"',
      `the matrix ('{{ fromJSON(needs.list.outputs.found) }}') must give an object of axes or a list of rows, not "a"`
    ],
    [
      '257 values',
      axis,
      JSON.stringify(Array.from({ length: 257 }, (_, i) => i)),
      'the matrix makes 257 instances; at most 256 may run'
    ]
  ])('%s is refused, quoting the start of what came back', (_, strategy, found, message) => {
    let error: unknown
    try {
      rows(strategy, found)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(MatrixError)
    expect(error).not.toBeInstanceOf(EmptyMatrixError)
    expect((error as Error).message).toBe(message)
  })
})

describe('a matrix made of upstream outputs: the run, on the fake backend', () => {
  const axis = '{matrix: {f: "{{ fromJSON(needs.list.outputs.found) }}"}}'

  it('runs one instance per value, named and numbered as a matrix written in the file', async () => {
    const { result, lines } = await runWith('["a.csv","b.csv"]', axis)
    expect(result.status).toBe('success')
    expect(result.jobs.map((j) => [j.id, j.matrix, j.status])).toEqual([
      ['list', {}, 'success'],
      ['check (a.csv)', { f: 'a.csv' }, 'success'],
      ['check (b.csv)', { f: 'b.csv' }, 'success']
    ])
    expect(lines.filter((l) => l.startsWith('[check (b.csv)] job started'))).toEqual([
      '[check (b.csv)] job started in img'
    ])
  })

  it('holds max_parallel and fail_fast as for a written matrix', async () => {
    const many = JSON.stringify(Array.from({ length: 6 }, (_, i) => i))
    const { result, backend } = await runWith(
      many,
      '{max_parallel: 2, matrix: {f: "{{ fromJSON(needs.list.outputs.found) }}"}}',
      { delayMs: 30 }
    )
    expect(result.jobs.length).toBe(7)
    expect(backend.peakRunning).toBe(2)
    const failing = await run(
      pipeline('{max_parallel: 1, matrix: {f: "{{ fromJSON(needs.list.outputs.found) }}"}}'),
      {
        process: ({ stage, instance }) =>
          stage === 'ls'
            ? { outputs: { found: '[1, 2, 3]' } }
            : instance === 'check-1'
              ? { exitCode: 1 }
              : {}
      }
    )
    expect(statuses(failing.result)).toEqual({
      list: 'success',
      'check (1)': 'failure',
      'check (2)': 'cancelled',
      'check (3)': 'cancelled'
    })
  })

  it('skips the job, with one line saying why, when the list is empty', async () => {
    const { result, lines } = await runWith('[]', axis)
    expect(result.status).toBe('success')
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['list', 'success', undefined],
      [
        'check',
        'skipped',
        "skipped: its matrix, made of the outputs of 'list', has no instances (axis 'f' ('{{ fromJSON(needs.list.outputs.found) }}') must give a non-empty list, not [])"
      ]
    ])
    expect(lines.filter((l) => l.startsWith('[check]'))).toEqual([
      "[check] job skipped: its matrix, made of the outputs of 'list', has no instances (axis 'f' ('{{ fromJSON(needs.list.outputs.found) }}') must give a non-empty list, not []) (0.00 s)"
    ])
  })

  it.each([
    [
      'not JSON',
      'a.csv b.csv',
      'pipeline.yml:9:16: jobs.check.strategy.matrix: Error parsing JSON when evaluating fromJson; needs.list.outputs.found is "a.csv b.csv"'
    ],
    [
      'too long',
      JSON.stringify(Array.from({ length: 300 }, (_, i) => i)),
      'pipeline.yml:9:16: jobs.check.strategy.matrix: the matrix makes 300 instances; at most 256 may run'
    ]
  ])('fails the job when the output is %s, and the run with it', async (_, found, error) => {
    const { result } = await runWith(found, axis)
    expect(result.status).toBe('failure')
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['list', 'success', undefined],
      ['check', 'failure', error]
    ])
  })

  it('skips the job when the job its matrix is made of failed; an always() job fails saying the output is not set', async () => {
    const { result } = await run(pipeline(axis), {
      process: ({ stage }) => (stage === 'ls' ? { exitCode: 1 } : {})
    })
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['list', 'failure', "stage 'ls' failed: exit code 1"],
      ['check', 'skipped', "skipped: needed job 'list' did not succeed"]
    ])
    const always = await run(pipeline(axis, '\n    if: always()'), {
      process: ({ stage }) => (stage === 'ls' ? { exitCode: 1, outputs: { found: '["x"]' } } : {})
    })
    // A failed job hands on no outputs: there is no matrix, and the job says so.
    expect(always.result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['list', 'failure', "stage 'ls' failed: exit code 1"],
      [
        'check',
        'failure',
        "pipeline.yml:9:16: jobs.check.strategy.matrix: empty input; needs.list.outputs.found is not set (job 'list' failure)"
      ]
    ])
  })

  it('run --instance of such a job says its instances exist only in a whole run', async () => {
    const loaded = parsePipeline(
      pipeline('{matrix: {f: "{{ fromJSON(needs.list.outputs.found) }}"}}'),
      'p.yml',
      '/repo'
    )
    const { params, plan } = preparePlan(loaded, {})
    await expect(
      runPipeline({
        plan,
        params,
        runId: 'r1',
        backend: new FakeBackend(),
        reporter: new ConsoleReporter({ write: () => undefined }),
        env: {},
        instance: { slug: 'check-1', upstream: [], workspaceDir: '/tmp' }
      })
    ).rejects.toThrow(
      new InputError(
        "--instance check-1: job 'check' has a matrix made of the outputs of 'list', whose instances exist only in a run of the whole pipeline; run it without --instance"
      )
    )
  })
})
