import { problemsOf } from '../helpers/file-problems.js'

// Line 1-4 declare params and an upstream job; the job under test starts on line 5.
const head = `params: {dataset: {default: sales}}
jobs:
  prep: {runs-on: {with: {image: busybox}}, outputs: {rows: "1"}}
  other: {runs-on: {with: {image: busybox}}}
  t:
    needs: [prep]
`
const t = (body: string) => head + body
const box = '    runs-on: {with: {image: busybox}}\n'

describe('expression references', () => {
  it.each([
    ['params', t(`    runs-on: {with: {image: "{{ params.dataset }}"}}\n`)],
    [
      'a matrix key, including one added by include',
      t(
        `    strategy: {matrix: {n: [1], include: [{x: 1}]}}\n    runs-on: {with: {image: "{{ matrix.n }}{{ matrix.x }}"}}\n`
      )
    ],
    [
      'needs outputs, result and instances',
      t(
        `    runs-on: {with: {image: "{{ needs.prep.outputs.rows }}{{ needs.prep.result }}{{ toJSON(needs.prep.instances) }}"}}\n`
      )
    ],
    [
      'a job upstream through another',
      `${head.replace('needs: [prep]', 'needs: [mid]')}${box}  mid: {needs: prep, runs-on: {with: {image: x}}}\n`
        .replace('{{', '{{')
        .concat('') + ''
    ],
    [
      'an earlier stage',
      t(
        `${box}    stages:\n      - {name: a, type: sh, run: x}\n      - {name: b, type: sh, run: "{{ stages.a.outputs.x }}", if: "stages.a.result == 'success'"}\n`
      )
    ],
    [
      'any stage in outputs',
      t(
        `${box}    stages: [{name: a, type: sh, run: x}]\n    outputs: {y: "{{ stages.a.outputs.x }}"}\n`
      )
    ],
    ['a status function in if', t(`    if: always() && needs.prep.result == 'failure'\n${box}`)],
    [
      'a computed index',
      t(`    runs-on: {with: {image: "{{ needs.prep.outputs[params.dataset] }}"}}\n`)
    ],
    [
      'run_id, job and ${VAR}',
      t(
        `    runs-on: {with: {image: "{{ run_id }}{{ job.id }}{{ job.instance }}", user: "\${USER}"}}\n`
      )
    ]
  ])('accepts %s', (_what, text) => expect(problemsOf(text)).toEqual([]))

  it.each([
    [
      'a param that is not declared, with a suggestion',
      t(`    runs-on: {with: {image: "app:{{ params.datset }}"}}\n`),
      "p.yml:7:34: jobs.t.runs-on.with.image: '{{ params.datset }}': no param 'datset' is declared (did you mean 'dataset'?)"
    ],
    [
      'matrix in a job without one',
      t(`    runs-on: {with: {image: "{{ matrix.os }}"}}\n`),
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ matrix.os }}': job 't' has no strategy.matrix"
    ],
    [
      'a matrix key that does not exist',
      t(`    strategy: {matrix: {os: [a]}}\n    runs-on: {with: {image: "{{ matrix.so }}"}}\n`),
      "p.yml:8:30: jobs.t.runs-on.with.image: '{{ matrix.so }}': the matrix of job 't' has no key 'so' (did you mean 'os'?)"
    ],
    [
      'a job that does not exist',
      t(`    runs-on: {with: {image: "{{ needs.nope.outputs.x }}"}}\n`),
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ needs.nope.outputs.x }}': no job 'nope' (known: prep, other, t)"
    ],
    [
      'a job that is not upstream',
      t(`    runs-on: {with: {image: "{{ needs.other.result }}"}}\n`),
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ needs.other.result }}': job 'other' is not upstream of 't': add it to needs"
    ],
    [
      'an output the job does not declare',
      t(`    runs-on: {with: {image: "{{ needs.prep.outputs.row }}"}}\n`),
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ needs.prep.outputs.row }}': job 'prep' declares no output 'row' (did you mean 'rows'?)"
    ],
    [
      'stages in runs-on',
      t(`    runs-on: {with: {image: "{{ stages.a.outputs.x }}"}}\n`),
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ stages.a.outputs.x }}': stages cannot be read here: the container is created before any stage runs"
    ],
    [
      'a later stage, pointed at inside a block scalar',
      t(
        `${box}    stages:\n      - name: a\n        type: sh\n        run: |\n          echo start\n          echo {{ stages.b.outputs.x }}\n      - {name: b, type: sh, run: x}\n`
      ),
      "p.yml:13:16: jobs.t.stages[0].run: '{{ stages.b.outputs.x }}': stage 'b' has not run yet here (a stage reads the stages before it)"
    ],
    [
      'a stage that does not exist',
      t(
        `${box}    stages: [{name: a, type: sh, run: x}]\n    outputs: {y: "{{ stages.nope.outputs.x }}"}\n`
      ),
      "p.yml:9:19: jobs.t.outputs.y: '{{ stages.nope.outputs.x }}': job 't' has no stage 'nope' (known: a)"
    ],
    [
      'a status function outside if',
      t(`    runs-on: {with: {image: "{{ failure() }}"}}\n`),
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ failure() }}': failure() can only be used in 'if:'"
    ],
    [
      'a context that does not exist',
      t(`    runs-on: {with: {image: "{{ env.HOME }}"}}\n`),
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ env.HOME }}': Unrecognized named-value: 'env'"
    ],
    [
      'an expression that does not parse',
      t(`    runs-on: {with: {image: "{{ params.dataset == }}"}}\n`),
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ params.dataset == }}': Unexpected end of expression: '=='"
    ],
    [
      'a matrix axis reading something other than params and needs',
      t(`    strategy: {matrix: {n: "{{ job.id }}"}}\n${box}`),
      "p.yml:7:29: jobs.t.strategy.matrix.n: '{{ job.id }}': 'job' cannot be read here (available: params, needs)"
    ],
    [
      'a job condition that reads a missing param',
      t(`    if: params.deploy\n${box}`),
      "p.yml:7:9: jobs.t.if: 'params.deploy': no param 'deploy' is declared (known: dataset)"
    ]
  ])('refuses %s', (_what, text, expected) => expect(problemsOf(text)).toEqual([expected]))
})

describe('positions of expression problems', () => {
  it('reports every broken expression of a script, each at its own line and column', () => {
    const text = t(
      `${box}    stages:\n      - name: a\n        type: sh\n        run: |\n          echo {{ params.dataset }}\n          echo \${{ params.dataset == }}\n          echo {{ params.datset }} {{ params.dataset | nope }}\n`
    )
    expect(problemsOf(text)).toEqual([
      "p.yml:13:16: jobs.t.stages[0].run: '${{ params.dataset == }}': Unexpected end of expression: '=='",
      "p.yml:14:36: jobs.t.stages[0].run: '{{ params.dataset | nope }}': 'nope' is not a filter (known: abs, str, rstr, int, list, dict, title, upper, lower, keys, values, fmt, coalesce, getitem, getindex)"
    ])
  })

  it('places the same expression written twice at each place', () => {
    const text = t(
      `    runs-on: {with: {image: "{{ params.x }}", working_dir: "/{{ params.x }}"}}\n`
    )
    expect(problemsOf(text)).toEqual([
      "p.yml:7:30: jobs.t.runs-on.with.image: '{{ params.x }}': no param 'x' is declared (known: dataset)",
      "p.yml:7:62: jobs.t.runs-on.with.working_dir: '{{ params.x }}': no param 'x' is declared (known: dataset)"
    ])
  })

  it.each([
    [
      'at the $ of a bare value',
      `          X: ab \${bad name}\n`,
      "p.yml:12:17: jobs.t.stages[0].env.X: '${' must be followed by NAME} in '${bad name}'"
    ],
    [
      'at the $ inside quotes',
      `          X: "ab \${bad name}"\n`,
      "p.yml:12:18: jobs.t.stages[0].env.X: '${' must be followed by NAME} in '${bad name}'"
    ]
  ])("points a malformed '${' %s", (_, line, expected) => {
    const text = t(`${box}    stages:\n      - name: a\n        echo: x\n        env:\n${line}`)
    expect(problemsOf(text)).toEqual([expected])
  })

  it('quotes a condition as written, ${{ }} and all', () => {
    expect(problemsOf(t(`    if: \${{ params.deploy }}\n${box}`))).toEqual([
      "p.yml:7:9: jobs.t.if: '${{ params.deploy }}': no param 'deploy' is declared (known: dataset)"
    ])
  })
})
