import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { formatProblem, PipelineFileError } from '../../src/pipeline/file-problems.js'
import type { ContainerSpec, Pipeline } from '../../src/pipeline/pipeline-types.js'
import { problemsOf } from '../helpers/file-problems.js'

const image = '    runs-on: {type: container, with: {image: busybox}}\n'
/** A one-job file; `ddeutil` marks it `type: Workflow`. */
const file = (stages: string, ddeutil = false) =>
  `${ddeutil ? 'type: Workflow\n' : ''}jobs:\n  a:\n${image}    stages:\n${stages}`

const load = (text: string, workflow?: string): Pipeline =>
  parsePipeline(text, 'p.yml', '/repo', { workflow })

describe('stages without type:, told apart by their keys', () => {
  it.each([
    [
      'bash: is a bash stage, with its env',
      file('      - {name: s, bash: "echo $X", env: {X: "1"}}\n'),
      { type: 'bash', run: 'echo $X', env: { X: '1' } }
    ],
    [
      'bash: in a ddeutil workflow',
      file('      - {name: s, bash: "echo hi"}\n', true),
      { type: 'bash', run: 'echo hi' }
    ],
    [
      'a bare run: is Python in a ddeutil workflow',
      file('      - {name: s, run: "print(1)"}\n', true),
      { type: 'py', run: 'print(1)' }
    ],
    [
      'echo: is an empty stage',
      file('      - {name: s, echo: hi}\n'),
      { type: 'empty', echo: 'hi' }
    ],
    ['only a name is an empty stage', file('      - name: s\n'), { type: 'empty' }],
    [
      'type: bash with bash: is the same',
      file('      - {name: s, type: bash, bash: "ls"}\n'),
      { type: 'bash', run: 'ls' }
    ],
    [
      'continue-on-error is continue_on_error',
      file('      - {name: s, echo: x, continue-on-error: true}\n'),
      { type: 'empty', continue_on_error: true }
    ]
  ])('%s', (_, text, expected) => {
    expect(load(text).jobs[0].stages![0]).toMatchObject(expected)
  })

  it.each([
    [
      "a bare run: outside a ddeutil workflow (GitHub's `- run: make`)",
      file('      - {name: s, run: make}\n'),
      [
        "p.yml:5:19: jobs.a.stages[0]: has 'run:' but no 'type:': write 'type: sh' or 'type: bash' for a shell script, 'type: py' for Python (only a file marked 'type: Workflow' reads a bare 'run:' as Python, as ddeutil-workflow does)"
      ]
    ],
    [
      'bash: and run: together',
      file('      - name: s\n        bash: ls\n        run: ls\n', true),
      [
        "p.yml:7:9: jobs.a.stages[0]: has both 'bash:' and 'run:'; keep one ('bash:' is a bash script, 'run:' the script of its 'type:')"
      ]
    ],
    [
      'a stage inside a foreach, at its own path',
      file('      - name: s\n        foreach: [1, 2]\n        stages: [{name: t, run: ls}]\n'),
      [
        "p.yml:7:28: jobs.a.stages[0].stages[0]: has 'run:' but no 'type:': write 'type: sh' or 'type: bash' for a shell script, 'type: py' for Python (only a file marked 'type: Workflow' reads a bare 'run:' as Python, as ddeutil-workflow does)"
      ]
    ],
    [
      'args: without type: cmd',
      file('      - {name: s, args: [ls]}\n'),
      ["p.yml:5:19: jobs.a.stages[0]: has 'args:' but no 'type:': write 'type: cmd'"]
    ]
  ])('refuses %s, once, at its key', (_, text, expected) => {
    expect(problemsOf(text)).toEqual(expected)
  })

  it('warns, in a ddeutil workflow, where a type: ddeutil would ignore changes the meaning', () => {
    const pipeline = load(file('      - {name: s, type: bash, run: "echo hi"}\n', true))
    expect(pipeline.jobs[0].stages![0]).toMatchObject({ type: 'bash', run: 'echo hi' })
    expect(pipeline.warnings.map(formatProblem)).toEqual([
      "p.yml:6:19: jobs.a.stages[0]: ddeutil-workflow ignores 'type: bash' and runs 'run:' as Python; here it runs as bash, as 'type:' says (write 'bash:' for a bash script in both)"
    ])
  })

  it('gives no warning in a file in the page form', () => {
    expect(load(file('      - {name: s, type: bash, run: "echo hi"}\n')).warnings).toEqual([])
  })
})

describe('strategy spellings of GitHub and ddeutil-workflow', () => {
  const strategy = (body: string, ddeutil = false) =>
    `${ddeutil ? 'type: Workflow\n' : ''}jobs:\n  a:\n${image}    strategy:\n${body}    stages: [{name: s, echo: x}]\n`

  it('reads max-parallel, fail-fast and include/exclude beside matrix:', () => {
    const job = load(
      strategy(
        '      max-parallel: 3\n      fail-fast: false\n      matrix: {x: [1, 2]}\n      include: [{x: 3}]\n      exclude: [{x: 1}]\n'
      )
    ).jobs[0]
    expect(job.strategy).toMatchObject({
      max_parallel: 3,
      fail_fast: false,
      matrix: { axes: { x: [1, 2] }, include: [{ x: 3 }], exclude: [{ x: 1 }] }
    })
  })

  it.each([
    [
      'include: both beside and under matrix:',
      strategy('      matrix: {x: [1], include: [{x: 2}]}\n      include: [{x: 3}]\n'),
      ["p.yml:6:7: jobs.a.strategy: 'include' is given both here and under 'matrix:'; keep one"]
    ],
    [
      'exclude: without a matrix:',
      strategy('      exclude: [{x: 3}]\n'),
      ["p.yml:5:7: jobs.a.strategy: 'exclude' needs a 'matrix:' beside it"]
    ]
  ])('refuses %s', (_, text, expected) => {
    expect(problemsOf(text)).toEqual(expected)
  })

  it('warns where ddeutil-workflow would ignore the underscore spelling', () => {
    const pipeline = load(strategy('      max_parallel: 2\n      matrix: {x: [1]}\n', true))
    expect(pipeline.warnings.map(formatProblem)).toEqual([
      "p.yml:6:7: jobs.a.strategy: ddeutil-workflow reads only 'max-parallel' and would ignore 'max_parallel'; it is used here (write 'max-parallel' for both to agree)"
    ])
  })
})

describe('params', () => {
  it("reads ddeutil's shorthand `name: TYPE`", () => {
    const text = `params:\n  name: str\n  n: {type: int, default: 2}\n${file('      - {name: s, echo: x}\n')}`
    expect(load(text).params).toEqual({
      name: { type: 'str', required: false, position: { file: 'p.yml', line: 2, col: 3 } },
      n: { type: 'int', required: false, default: 2, position: { file: 'p.yml', line: 3, col: 3 } }
    })
  })

  it('places a shorthand naming no type at its value', () => {
    const text = `params:\n  name: string\n${file('      - {name: s, echo: x}\n')}`
    expect(problemsOf(text)[0]).toMatch(/^p\.yml:2:9: params\.name\.type: 'string' is not one of/)
  })
})

describe("ddeutil-workflow's keyed layout: several workflows in one file", () => {
  const two =
    'first:\n  type: Workflow\n  jobs:\n    a:\n' +
    '      runs-on: {type: container, with: {image: busybox}}\n      stages: [{name: s, echo: one}]\n' +
    'second:\n  type: Workflow\n  params: {n: int}\n  jobs:\n    b:\n' +
    '      runs-on: {type: container, with: {image: busybox}}\n      stages: [{name: s, bash: "echo {{ params.n }}"}]\n'

  it('loads the one named, by its key', () => {
    const pipeline = load(two, 'second')
    expect([pipeline.name, pipeline.dialect, pipeline.jobs.map((j) => j.id)]).toEqual([
      'second',
      'ddeutil',
      ['b']
    ])
    expect(pipeline.jobs[0].position).toEqual({ file: 'p.yml', line: 11, col: 5 })
  })

  it.each([
    [
      undefined,
      'p.yml:1:1: this file holds 2 workflows (first, second): name one with --workflow NAME'
    ],
    [
      'third',
      "p.yml:1:1: --workflow third: this file holds no workflow 'third' (it holds: first, second)"
    ]
  ])('refuses --workflow %s, listing the names', (name, expected) => {
    expect(() => load(two, name)).toThrow(PipelineFileError)
    try {
      load(two, name)
    } catch (error) {
      expect((error as PipelineFileError).problems.map(formatProblem)).toEqual([expected])
    }
  })

  it('places problems inside the chosen workflow at their line', () => {
    const broken = two.replace('params: {n: int}', 'params: {n: integer}')
    expect(problemsOf(broken.replace(/^first:[\s\S]*?(?=^second:)/m, ''))).toEqual([
      "p.yml:3:15: params.n.type: 'integer' is not one of: str, int, float, bool, list, map, date, datetime, decimal, choice, array"
    ])
  })

  it('loads a file holding one without --workflow', () => {
    const one = two.slice(0, two.indexOf('second:'))
    expect(load(one).name).toBe('first')
  })

  it('refuses --workflow on a file in the page form', () => {
    expect(() => load(file('      - {name: s, echo: x}\n'), 'x')).toThrow(
      "--workflow x: this file is one workflow (top-level 'jobs:'), not several named ones; leave out --workflow"
    )
  })
})

describe('jobs without runs-on, and --default-image', () => {
  const noRunsOn =
    'type: Workflow\njobs:\n  a:\n    stages: [{name: s, echo: x}]\n  b:\n    runs-on: {type: local}\n    stages: [{name: s, echo: x}]\n'

  it('refuses each at its line without --default-image', () => {
    expect(problemsOf(noRunsOn)).toEqual([
      "p.yml:3:3: jobs.a has no 'runs-on:': every job runs in a container; give it runs-on: {type: container, with: {image: IMAGE}}, or run with --default-image IMAGE",
      "p.yml:6:5: jobs.b.runs-on: 'type: local' runs a job on ddeutil-workflow's own machine; here every job runs in a container: write {type: container, with: {image: IMAGE}}, or run with --default-image IMAGE"
    ])
  })

  it('runs them in the default image', () => {
    const pipeline = parsePipeline(noRunsOn, 'p.yml', '/repo', { defaultImage: 'python:3.11' })
    expect(pipeline.jobs.map((j) => j.container.image)).toEqual(['python:3.11', 'python:3.11'])
    expect(pipeline.defaultImage).toBe('python:3.11')
  })

  it('leaves a job that has runs-on as it is', () => {
    const text = file('      - {name: s, echo: x}\n')
    expect(
      parsePipeline(text, 'p.yml', '/repo', { defaultImage: 'other' }).jobs[0].container.image
    ).toBe('busybox')
  })
})

describe("GitHub's env: at the top and on a job", () => {
  it('reaches every stage, the nearer one winning; a job without stages has it in its container', () => {
    const pipeline = load(
      'env: {A: top, B: top, C: top}\njobs:\n  a:\n' +
        `${image}    env: {B: job, C: job}\n    stages:\n      - {name: s, echo: x, env: {C: stage}}\n` +
        '  b:\n    runs-on: {type: container, with: {image: busybox, environment: {A: own}}}\n    env: {B: job}\n'
    )
    expect(pipeline.jobs[0].stages![0].env).toEqual({ A: 'top', B: 'job', C: 'stage' })
    expect(pipeline.jobs[1].container.environment).toEqual({ A: 'own', B: 'job', C: 'top' })
  })

  it('checks its expressions where they are written', () => {
    expect(
      problemsOf(`env: {X: "{{ params.nope }}"}\n${file('      - {name: s, echo: x}\n')}`)
    ).toEqual(["p.yml:1:11: env.X: '{{ params.nope }}': no param 'nope' is declared"])
  })
})

describe("a matrix's defaults: GitHub's, or ddeutil-workflow's in its own files", () => {
  const matrix = (ddeutil: boolean, strategy = '{matrix: {x: [1, 2]}}') =>
    `${ddeutil ? 'type: Workflow\n' : ''}jobs:\n  a:\n${image}    strategy: ${strategy}\n    stages: [{name: s, echo: x}]\n`

  it.each([
    [false, undefined, { fail_fast: true, defaults: 'GitHub' }],
    [true, undefined, { fail_fast: false, max_parallel: 1, defaults: 'ddeutil-workflow' }],
    [
      true,
      '{matrix: {x: [1]}, max-parallel: 3, fail-fast: true}',
      { fail_fast: true, max_parallel: 3 }
    ]
  ])('ddeutil %s, %s', (ddeutil, strategy, expected) => {
    expect(load(matrix(ddeutil, strategy)).jobs[0].strategy).toEqual({
      ...expected,
      matrix: expect.anything()
    })
  })
})

describe("on: (ddeutil-workflow's schedule and release events)", () => {
  const withOn = (on: string) => `${on}${file('      - {name: s, echo: x}\n')}`

  it('reads cron lines (names as numbers) in their time zone, and releases', () => {
    const pipeline = load(
      withOn(
        "on:\n  schedule:\n    - {cronjob: '*/5 * * * *', timezone: Asia/Bangkok}\n    - cronjob: '30 2 * jan,jul mon-fri'\n      timezone: Asia/Bangkok\n  release: [upstream]\n"
      )
    )
    expect(pipeline.on).toEqual({
      schedule: [
        {
          cron: '*/5 * * * *',
          timezone: 'Asia/Bangkok',
          position: { file: 'p.yml', line: 3, col: 17 }
        },
        {
          cron: '30 2 * 1,7 1-5',
          timezone: 'Asia/Bangkok',
          position: { file: 'p.yml', line: 4, col: 16 }
        }
      ],
      release: ['upstream'],
      position: { file: 'p.yml', line: 1, col: 1 }
    })
  })

  it.each([
    [
      "{cronjob: '* * * *'}",
      "p.yml:2:24: on.schedule[0].cronjob '* * * *' has 4 fields; a cron line has five: minute hour day-of-month month day-of-week"
    ],
    [
      "{cronjob: '60 * * * *'}",
      "p.yml:2:24: on.schedule[0].cronjob '60 * * * *' minute '60': '60' is not 0 to 59"
    ],
    [
      "{cronjob: '0 0 * * 7'}",
      "p.yml:2:24: on.schedule[0].cronjob '0 0 * * 7' day of week '7': '7' is not 0 to 6 or a name (sun, ...)"
    ],
    [
      "{cronjob: '0 5-1 * * *'}",
      "p.yml:2:24: on.schedule[0].cronjob '0 5-1 * * *' hour '5-1': the range '5-1' runs backwards"
    ],
    [
      "{cronjob: '*/0 * * * *'}",
      "p.yml:2:24: on.schedule[0].cronjob '*/0 * * * *' minute '*/0': the step '0' is not a whole number above 0"
    ],
    [
      "{cronjob: '@daily'}",
      "p.yml:2:24: on.schedule[0].cronjob '@daily' has 1 field; a cron line has five: minute hour day-of-month month day-of-week"
    ],
    [
      "{cronjob: '0 0 * * *', timezone: Mars/Olympus}",
      "p.yml:2:47: on.schedule[0].timezone 'Mars/Olympus' is not a time zone name (IANA, such as UTC or Asia/Bangkok)"
    ]
  ])('refuses %s at its value', (entry, expected) => {
    expect(problemsOf(withOn(`on:\n  schedule: [${entry}]\n`))).toEqual([expected])
  })

  it('refuses a line given twice, and a second time zone', () => {
    expect(
      problemsOf(
        withOn(
          "on:\n  schedule:\n    - {cronjob: '0 0 * * *'}\n    - {cronjob: '0 0 * * *', timezone: Asia/Tokyo}\n"
        )
      )
    ).toEqual([
      "p.yml:4:17: on.schedule[1].cronjob '0 0 * * *' is on.schedule[0]'s too; give each line once",
      "p.yml:4:40: on.schedule[1].timezone 'Asia/Tokyo' differs from on.schedule[0]'s 'UTC': a schedule has one time zone, as in ddeutil-workflow"
    ])
  })
})

describe("ddeutil's stage keys: desc, retry, sleep, vars", () => {
  it('reads them into the stage', () => {
    const stages = load(
      file(
        "      - {name: a, desc: Says hi, echo: hi, sleep: 1.5}\n      - {name: b, run: 'print(x)', vars: {x: '${{ params.n }}'}, retry: 3}\n",
        true
      ).replace('jobs:', 'params: {n: {type: int, default: 1}}\njobs:')
    ).jobs[0].stages!
    expect(
      stages.map(({ desc, retry, sleep_ms, vars }) => ({ desc, retry, sleep_ms, vars }))
    ).toEqual([
      { desc: 'Says hi', retry: 0, sleep_ms: 1500, vars: undefined },
      { desc: undefined, retry: 3, sleep_ms: undefined, vars: { x: '${{ params.n }}' } }
    ])
  })

  it.each([
    [
      'sleep on a script',
      '      - {name: a, type: sh, run: ls, sleep: 1}\n',
      "p.yml:5:38: jobs.a.stages[0]: 'sleep' is for an empty stage, not a sh one"
    ],
    [
      'vars on a shell stage',
      '      - {name: a, bash: ls, vars: {x: 1}}\n',
      "p.yml:5:29: jobs.a.stages[0]: 'vars' is for a py stage, not a bash one"
    ],
    [
      'a retry past 19',
      '      - {name: a, echo: x, retry: 20}\n',
      'p.yml:5:35: jobs.a.stages[0].retry must be at most 19, not number 20'
    ],
    [
      'vars reading a stage not run yet',
      "      - {name: a, run: 'print(x)', vars: {x: '${{ stages.b.outputs.y }}'}}\n      - {name: b, echo: x}\n",
      "p.yml:5:47: jobs.a.stages[0].vars.x: '${{ stages.b.outputs.y }}': stage 'b' has not run yet here (a stage reads the stages before it)"
    ]
  ])('refuses %s', (_, stages, expected) => {
    expect(problemsOf(file(stages, true))).toEqual([expected.replace(/^p\.yml:5:/, 'p.yml:6:')])
  })
})

describe("ddeutil's container provider arguments", () => {
  const container = (withKeys: string, ddeutil = true, jobKeys = '') =>
    `${ddeutil ? 'type: Workflow\n' : ''}jobs:\n  a:\n    runs-on:\n      type: container\n      with: {image: busybox${withKeys}}\n${jobKeys}`

  it.each<[string, string, boolean, string, number | undefined]>([
    ['timeout in seconds', ', timeout: 90', true, '', 90_000],
    ['the job timeout wins', ', timeout: 90', true, '    timeout: 5m\n', 300_000],
    ["ddeutil's hour when neither is given", '', true, '', 3_600_000],
    ['no timeout in the page form', '', false, '', undefined]
  ])('%s', (_, withKeys, ddeutil, jobKeys, expected) => {
    expect(load(container(withKeys, ddeutil, jobKeys)).jobs[0].timeout_ms).toBe(expected)
  })

  it.each<[string, string, boolean, Partial<ContainerSpec>]>([
    [
      'a command string runs with sh -c in a ddeutil workflow',
      ", command: 'echo a && echo b'",
      true,
      { command: ['sh', '-c', 'echo a && echo b'] }
    ],
    [
      'and is split into words elsewhere',
      ", command: 'pytest -q'",
      false,
      { command: ['pytest', '-q'] }
    ],
    ["/app is ddeutil's working folder", '', true, { working_dir: '/app' }],
    ['remove: false keeps the container', ', remove: false', true, { keep: true }],
    [
      'network_name is the network joined',
      ', network: {network_name: backend}',
      true,
      { network: { network_mode: 'backend', ports: {}, extra_hosts: {}, dns: [] } }
    ]
  ])('%s', (_, withKeys, ddeutil, expected) => {
    expect(load(container(withKeys, ddeutil)).jobs[0].container).toMatchObject(expected)
  })

  it.each([
    [
      ', network: {network_name: a, network_mode: b}',
      'p.yml:6:40: jobs.a.runs-on.with.network: network_name and network_mode both say which network; keep one'
    ]
  ])('refuses %s at its line', (withKeys, expected) => {
    expect(problemsOf(container(withKeys))).toEqual([expected])
  })
})

describe('names users bring from GitHub Actions, Compose and ddeutil-workflow', () => {
  const base = (jobKeys: string, withKeys = '') =>
    `jobs:\n  a:\n    runs-on: {type: container, with: {image: busybox${withKeys}}}\n${jobKeys}    stages: [{name: s, echo: x}]\n`
  it.each([
    [
      'steps',
      base('    steps: []\n'),
      "p.yml:4:5: jobs.a: unknown key 'steps' (did you mean 'stages'?)"
    ],
    [
      'depends_on',
      base('    depends_on: [b]\n'),
      "p.yml:4:5: jobs.a: unknown key 'depends_on' (did you mean 'needs'?)"
    ],
    [
      'timeout-minutes',
      base('    timeout-minutes: 5\n'),
      "p.yml:4:5: jobs.a: unknown key 'timeout-minutes' (did you mean 'timeout'? it takes a unit, as in timeout: 30m)"
    ],
    [
      'cpus',
      base('', ', resources: {cpus: 2}'),
      "p.yml:3:67: jobs.a.runs-on.with.resources: unknown key 'cpus' (did you mean 'cpu'?)"
    ],
    [
      'mem_limit',
      base('', ', resources: {mem_limit: 1g}'),
      "p.yml:3:67: jobs.a.runs-on.with.resources: unknown key 'mem_limit' (did you mean 'memory'?)"
    ],
    [
      'env in runs-on.with',
      base('', ', env: {A: b}'),
      "p.yml:3:55: jobs.a.runs-on.with: unknown key 'env' (did you mean 'environment'?)"
    ],
    [
      'runs-on: ubuntu-latest',
      'jobs:\n  a:\n    runs-on: ubuntu-latest\n    stages: [{name: s, echo: x}]\n',
      "p.yml:3:14: jobs.a.runs-on: 'ubuntu-latest' names a machine to run on, as GitHub Actions does; here a job runs in a container: runs-on: {type: container, with: {image: IMAGE}}"
    ]
  ])('%s gets the name used here', (_, text, expected) => {
    expect(problemsOf(text)).toEqual([expected])
  })
})

describe("ddeutil's stages that run elsewhere than a container's shell", () => {
  it.each([
    [
      'uses',
      "      - {name: s, uses: 'tasks/load@demo', with: {a: 1}}\n",
      "p.yml:6:19: jobs.a.stages[0]: a 'uses:' stage (ddeutil calls a Python function registered with its @tag) is not supported: a stage here is one of sh, bash, py, cmd, process, empty, foreach, until, parallel, case or raise"
    ],
    [
      'deps',
      "      - {name: s, run: 'import x', deps: [x]}\n",
      "p.yml:6:36: jobs.a.stages[0]: ddeutil's virtual Python stage (deps: installed into a fresh environment; install them in the job's image instead) is not supported: a stage here is one of sh, bash, py, cmd, process, empty, foreach, until, parallel, case or raise"
    ]
  ])('%s: one message, at its key', (_, stages, expected) => {
    expect(problemsOf(file(stages, true))).toEqual([expected])
  })
})
