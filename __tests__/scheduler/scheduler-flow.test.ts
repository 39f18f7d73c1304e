import type { FakeProcess, FakeProcessInfo } from '../../src/backend/fake/fake-script.js'
import { job, run, spans, statuses } from '../helpers/fake-run.js'

/** A stage that prints its `SAY` variable, as `echo "$SAY"` would. */
const say = ({ env }: FakeProcessInfo) => (env.SAY === undefined ? {} : { stdout: `${env.SAY}\n` })

/** The lines a job's stages printed, without the reporter's own about the job and stages. */
const printed = (lines: string[], id: string) =>
  lines.filter((l) => l.startsWith(`[${id}] `) && !/^\[[^\]]+\] (job |stage |warning: )/.test(l))

describe('matrices, needs and conditions, on the fake backend', () => {
  it('runs every matrix instance and hands all their outputs downstream as lists', async () => {
    const { result, lines } = await run(
      `jobs:
  shard:
    strategy:
      matrix:
        n: [1, 2]
        letter: [a]
        include: [{n: 3, letter: c, extra: yes}]
    runs-on: {with: {image: img}}
    stages:
      - {name: square, type: sh, run: work, env: {N: "{{ matrix.n }}"}}
      - {name: echo, type: sh, run: work, env: {SAY: "env sq={{ stages.square.outputs.sq }}"}}
    outputs: {sq: "{{ stages.square.outputs.sq }}"}
  sum:
    needs: [shard]
    runs-on: {with: {image: img}}
    stages:
      - name: show
        type: sh
        run: work
        env: {SAY: 'squares={{ toJSON(needs.shard.outputs.sq) }} third={{ needs.shard.instances[2].matrix.extra }} result={{ needs.shard.result }}'}
`,
      {
        process: (info) =>
          info.env.N ? { outputs: { sq: String(Number(info.env.N) ** 2) } } : say(info)
      }
    )
    expect(result.status).toBe('success')
    expect(result.jobs.map((j) => [j.id, j.job, j.matrix, j.outputs])).toEqual([
      ['shard (1, a)', 'shard', { n: 1, letter: 'a' }, { sq: '1' }],
      ['shard (2, a)', 'shard', { n: 2, letter: 'a' }, { sq: '4' }],
      ['shard (3, c, yes)', 'shard', { n: 3, letter: 'c', extra: 'yes' }, { sq: '9' }],
      ['sum', 'sum', {}, {}]
    ])
    expect(printed(lines, 'shard (3, c, yes)')).toEqual(['[shard (3, c, yes)] env sq=9'])
    // toJSON writes the list as GitHub's does: indented, a line per value.
    expect(printed(lines, 'sum')).toEqual([
      '[sum] squares=[',
      '[sum]   "1",',
      '[sum]   "4",',
      '[sum]   "9"',
      '[sum] ] third=yes result=success'
    ])
  })

  it('fail_fast cancels the instances not yet run; an always() job still runs and reads the failure', async () => {
    const { result, lines } = await run(
      `jobs:
  test:
    strategy: {matrix: {n: [1, 2, 3]}}
    runs-on: {with: {image: img}}
    stages: [{name: check, type: sh, run: work}]
  deploy:
    needs: [test]
    runs-on: {with: {image: img}}
    stages: [{name: go, type: sh, run: work}]
  report:
    needs: [deploy]
    if: always()
    runs-on: {with: {image: img}}
    stages:
      - {name: tell, type: sh, run: work, env: {SAY: "deploy={{ needs.deploy.result }}"}}
      - {name: only-on-failure, type: sh, if: failure(), run: work}
      - {name: fails, type: sh, run: work}
      - {name: cleanup, type: sh, if: always(), run: work, env: {SAY: cleaning up}}
      - {name: after, type: sh, run: work}
`,
      {
        process: (info) =>
          info.instance === 'test-2' || info.stage === 'fails'
            ? { exitCode: info.stage === 'fails' ? 3 : 1 }
            : say(info)
      },
      // One at a time, so that test (3) has not started when test (2) fails.
      { maxParallel: 1 }
    )
    expect(result.status).toBe('failure')
    expect(result.jobs.map((j) => [j.id, j.status, j.error ?? ''])).toEqual([
      ['test (1)', 'success', ''],
      ['test (2)', 'failure', "stage 'check' failed: exit code 1"],
      ['test (3)', 'cancelled', "cancelled: instance 'test (2)' failed (fail_fast)"],
      ['deploy', 'skipped', "skipped: needed job 'test' did not succeed"],
      ['report', 'failure', "stage 'fails' failed: exit code 3"]
    ])
    expect(result.jobs[4].stages.map((s) => s.status)).toEqual([
      'success',
      'skipped',
      'failure',
      'success',
      'skipped'
    ])
    expect(printed(lines, 'report')).toEqual(['[report] deploy=skipped', '[report] cleaning up'])
  })

  it('an always() report job reads which jobs succeeded, failed or were skipped', async () => {
    const { result, lines } = await run(
      `jobs:
  good: ${job()}
  bad: ${job()}
  downstream: ${job(', needs: [bad]')}
  report:
    needs: [good, bad, downstream]
    if: always()
    runs-on: {with: {image: img}}
    stages:
      - {name: tell, type: sh, run: work, env: {SAY: "good={{ needs.good.result }} bad={{ needs.bad.result }} downstream={{ needs.downstream.result }}"}}
`,
      { process: (info) => (info.job === 'bad' ? { exitCode: 1 } : say(info)) }
    )
    expect(statuses(result)).toEqual({
      good: 'success',
      bad: 'failure',
      downstream: 'skipped',
      report: 'success'
    })
    expect(printed(lines, 'report')).toEqual([
      '[report] good=success bad=failure downstream=skipped'
    ])
  })

  it('skips a job whose if: is false, and the jobs that need it; fails one whose if: cannot be evaluated', async () => {
    const { result, backend } = await run(`
params: {deploy: {type: bool, default: false}, cfg: {default: 'not json'}}
jobs:
  broken: ${job(', if: fromJSON(params.cfg).enabled')}
  deploy: ${job(', if: params.deploy')}
  notify: ${job(', needs: deploy')}
`)
    expect(result.status).toBe('failure')
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['broken', 'failure', expect.stringMatching(/^if: .*JSON/)],
      ['deploy', 'skipped', 'skipped: its if: condition is false'],
      ['notify', 'skipped', "skipped: needed job 'deploy' did not succeed"]
    ])
    expect(backend.calls((e) => e.call === 'run')).toEqual([])
  })
})

describe('retries and continue_on_error, on the fake backend', () => {
  it('retries a failed job after the delay, in a new container, until it succeeds', async () => {
    const { result, lines, backend } = await run(
      `jobs:
  flaky: ${job(', retry: {count: 3, delay: 300ms}')}
  never: ${job(', retry: 1')}
`,
      {
        process: ({ job, run }) => ({ exitCode: job === 'never' ? 4 : run >= 2 ? 0 : 1 })
      }
    )
    expect(result.jobs.map((j) => [j.id, j.status, j.attempts])).toEqual([
      ['flaky', 'success', 2],
      ['never', 'failure', 2]
    ])
    expect(lines).toContain(
      "[flaky] warning: attempt 1 of 4 failed (stage 's' failed: exit code 1); retrying in 0.3s"
    )
    // Each attempt in a container of its own, the second at least the delay after the first.
    const flaky = backend.events.filter((e) => e.instance === 'flaky')
    expect(flaky.filter((e) => e.call === 'create')).toHaveLength(2)
    const [first, second] = flaky.filter((e) => e.call === 'run').map((e) => e.at)
    const firstExit = flaky.find((e) => e.call === 'exit')!.at
    expect(second - firstExit).toBeGreaterThanOrEqual(300)
    expect(first).toBeLessThan(firstExit)
  })

  it('continue_on_error lets the job go on and succeed past a failed stage', async () => {
    const { result } = await run(
      `jobs:
  lenient:
    runs-on: {with: {image: img}}
    stages:
      - {name: optional, type: sh, run: work, continue_on_error: true}
      - {name: next, type: sh, run: work}
`,
      { process: ({ stage }) => ({ exitCode: stage === 'optional' ? 2 : 0 }) }
    )
    const [lenient] = result.jobs
    expect(lenient.status).toBe('success')
    expect(lenient.stages.map((s) => [s.status, s.exit_code])).toEqual([
      ['failure', 2],
      ['success', 0]
    ])
  })
})

describe('batches, on the fake backend', () => {
  it('keeps each stage of a batch its own: output, exit code, outputs, continue_on_error, if:', async () => {
    const { result, lines, backend } = await run(
      `jobs:
  j:
    runs-on: {with: {image: img}}
    stages:
      - {name: a, type: sh, run: work, env: {SAY: a-out}}
      - {name: b, type: sh, run: work, continue_on_error: true}
      - {name: c, type: sh, run: work, env: {SAY: "c: {{ job.id }}"}}
      - {name: d, type: sh, if: 'always()', run: work, env: {SAY: "d reads {{ stages.a.outputs.x }}"}}
      - {name: e, type: sh, run: work}
      - {name: f, type: sh, run: work, env: {SAY: never}}
`,
      {
        process: (info) =>
          info.stage === 'a'
            ? { stdout: 'a-out\n', outputs: { x: '1' } }
            : info.stage === 'b' || info.stage === 'e'
              ? { exitCode: info.stage === 'b' ? 3 : 5, stderr: `${info.stage}-err\n` }
              : say(info)
      }
    )
    const [j] = result.jobs
    expect(j.stages.map((s) => [s.id, s.status, s.exit_code])).toEqual([
      ['a', 'success', 0],
      ['b', 'failure', 3],
      ['c', 'success', 0],
      ['d', 'success', 0],
      ['e', 'failure', 5],
      ['f', 'skipped', null]
    ])
    expect(j.stages[0].outputs).toEqual({ x: '1' })
    expect([j.status, j.exit_code]).toEqual(['failure', 5])
    expect(printed(lines, 'j')).toEqual([
      '[j] a-out',
      '[j] b-err',
      '[j] c: j',
      '[j] d reads 1',
      '[j] e-err'
    ])
    // a, b and c in one batch; d (an if:) alone; e and f in a batch that stops after e.
    expect(backend.calls((e) => e.call === 'run')).toEqual([
      'run j a',
      'run j b',
      'run j c',
      'run j d',
      'run j e'
    ])
  })

  it('a stage that the job timeout stops mid-batch fails as timed out; the rest are cancelled', async () => {
    const { result } = await run(
      `jobs:
  j:
    runs-on: {with: {image: img}}
    timeout: 300ms
    stages:
      - {name: a, type: sh, run: work}
      - {name: b, type: sh, run: work}
      - {name: c, type: sh, run: work}
`,
      { process: ({ stage }) => ({ delayMs: stage === 'b' ? 60_000 : 0 }) }
    )
    const [j] = result.jobs
    expect(j.timed_out).toBe(true)
    expect(j.stages.map((s) => [s.id, s.status, s.timed_out])).toEqual([
      ['a', 'success', false],
      ['b', 'failure', true],
      ['c', 'cancelled', false]
    ])
  })
})

describe("containers made ready before their job's turn, on the fake backend", () => {
  it('starts the next job container while the current job runs; not one that reads needs', async () => {
    const { result, backend } = await run(
      `jobs:
  a: {runs-on: {with: {image: img}}, stages: [{name: s, type: sh, run: work}], outputs: {v: "{{ stages.s.outputs.v }}"}}
  b: ${job(', needs: [a]')}
  c:
    needs: [a, b]
    runs-on: {with: {image: img, environment: {V: '{{ needs.a.outputs.v }}'}}}
    stages: [{name: s, type: sh, run: work}]
`,
      {
        process: ({ job }) => (job === 'a' ? { delayMs: 200, outputs: { v: '42' } } : {})
      },
      { maxParallel: 2 }
    )
    expect(result.status).toBe('success')
    const at = (instance: string, call: string) =>
      backend.events.find((e) => e.instance === instance && e.call === call)!.at
    const ran = spans(backend)
    // b's container was up before a had finished; c's only once b's turn had come.
    expect(at('b', 'start')).toBeLessThan(ran.get('a')![1])
    expect(at('c', 'create')).toBeGreaterThanOrEqual(ran.get('b')![0])
    expect(backend.plans.find((p) => p.labels['ctr-pipeline.job'] === 'c')?.env.V).toBe('42')
  })

  it('removes the containers of jobs that never run, also with keep; keeps those that ran', async () => {
    const { result, backend } = await run(
      `jobs:
  a: ${job()}
  b: ${job(', needs: [a]')}
  c: ${job(', needs: [b]')}
`,
      { process: ({ job }) => (job === 'a' ? { delayMs: 200, exitCode: 1 } : {}) },
      { maxParallel: 2, keep: true }
    )
    expect(result.jobs.map((j) => j.status)).toEqual(['failure', 'skipped', 'skipped'])
    const made = backend.calls((e) => e.call === 'create')
    const removed = backend.calls((e) => e.call === 'remove')
    // What was made ready for b went again; a, which ran, is kept.
    expect(made.filter((c) => c !== 'create a').map((c) => c.replace('create', 'remove'))).toEqual(
      removed
    )
    expect(removed).not.toContain('remove a')
    expect(backend.leftovers().containers).toBe(1)
  })
})

describe("ddeutil's stage keys on the fake backend: retry and sleep", () => {
  const retrying = (retry: number) => `jobs:
  a:
    runs-on: {with: {image: img}}
    stages:
      - {name: flaky, type: sh, run: work, retry: ${retry}}
      - {name: after, type: sh, run: work}
    outputs: {got: "{{ stages.flaky.outputs.got }}"}
`
  /** Fails the first time with an output it must not keep, succeeds the second. */
  const flaky = (info: FakeProcessInfo): FakeProcess =>
    info.stage === 'flaky' && info.run === 1
      ? { exitCode: 3, outputs: { got: 'from the failed run', stale: 'x' } }
      : info.stage === 'flaky'
        ? { outputs: { got: `run ${info.run}` } }
        : {}

  it('runs a failed stage again, at once the first time, keeping only the last run', async () => {
    const { result, backend, lines } = await run(retrying(2), { process: flaky })
    expect(result.status).toBe('success')
    const stage = result.jobs[0].stages[0]
    expect([stage.status, stage.exit_code, stage.outputs]).toEqual(['success', 0, { got: 'run 2' }])
    expect(result.jobs[0].outputs).toEqual({ got: 'run 2' })
    expect(backend.events.filter((e) => e.call === 'run').map((e) => e.stage)).toEqual([
      'flaky',
      'flaky',
      'after'
    ])
    expect(lines).toContain("[a] warning: stage 'flaky' failed (exit code 3); retry 1 of 2")
  })

  it('fails the job when no retry is left', async () => {
    const { result } = await run(retrying(0), { process: flaky })
    expect([result.status, result.jobs[0].stages.map((s) => s.status)]).toEqual([
      'failure',
      ['failure', 'skipped']
    ])
  })

  it('waits after an empty stage for its sleep', async () => {
    const started = Date.now()
    const { result, lines } = await run(`jobs:
  a:
    runs-on: {with: {image: img}}
    stages: [{name: nap, echo: napping, sleep: 0.3}]
`)
    expect(result.status).toBe('success')
    expect(result.jobs[0].stages[0].duration_ms).toBeGreaterThanOrEqual(300)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(printed(lines, 'a')).toEqual(['[a] napping'])
  })
})

describe("a ddeutil workflow's if:, rendered and read as Python, on the fake backend", () => {
  it('skips the instances and stages whose condition is False', async () => {
    const { result } = await run(`type: Workflow
jobs:
  a:
    strategy: {matrix: {sleep: [1, 2]}, max-parallel: 2}
    runs-on: {with: {image: img}}
    stages:
      - {name: one, if: '\${{ matrix.sleep }} == 1', bash: work}
      - {name: always, bash: work}
  b:
    if: "'x' in ['y']"
    runs-on: {with: {image: img}}
    stages: [{name: s, bash: work}]
`)
    expect(result.jobs.map((j) => [j.id, j.status, j.stages.map((s) => s.status)])).toEqual([
      ['a (1)', 'success', ['success', 'success']],
      ['a (2)', 'success', ['skipped', 'success']],
      ['b', 'skipped', []]
    ])
  })
})

describe('trigger-rule on the fake backend', () => {
  const pipeline = (rule: string, extra = '') => `jobs:
  ok: ${job()}
  broken: ${job()}
  after:
    needs: [ok, broken]
    trigger-rule: ${rule}${extra}
    runs-on: {with: {image: img}}
    stages: [{name: s, type: sh, run: work}]
`
  const brokenFails = ({ job: id }: FakeProcessInfo): FakeProcess =>
    id === 'broken' ? { exitCode: 1 } : {}

  it.each([
    ['one_failed', 'success', undefined],
    ['all_done', 'success', undefined],
    ['one_success', 'success', undefined],
    [
      'all_success',
      'failure',
      'trigger-rule all_success does not hold for the jobs it needs (ok success, broken failure)'
    ],
    [
      'none_failed',
      'failure',
      'trigger-rule none_failed does not hold for the jobs it needs (ok success, broken failure)'
    ]
  ])('%s after one success and one failure: %s', async (rule, status, error) => {
    const { result } = await run(pipeline(rule), { process: brokenFails })
    const after = result.jobs.find((j) => j.id === 'after')!
    expect([after.status, after.error]).toEqual([status, error])
    expect(result.status).toBe('failure')
  })

  it.each([
    ["'a' == 'a'", 'success'],
    ["'a' == 'b'", 'skipped']
  ])(
    'reads if: %s beside the rule without success(), which the rule decided: %s',
    async (condition, status) => {
      const { result } = await run(pipeline('one_failed', `\n    if: "${condition}"`), {
        process: brokenFails
      })
      expect(result.jobs.find((j) => j.id === 'after')!.status).toBe(status)
    }
  )
})

describe('preflight on the fake backend', () => {
  it('pulls nothing for a job whose mount source is missing, and prints nothing after the end', async () => {
    const { result, backend, lines } = await run(`jobs:
  a:
    runs-on: {with: {image: only-a, volumes: [{source: /no/such/folder, target: /in}]}}
    stages: [{name: s, type: sh, run: work}]
  b:
    runs-on: {with: {image: img}}
    stages: [{name: s, type: sh, run: work}]
`)
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      [
        'a',
        'failure',
        'mount source /no/such/folder does not exist on this machine (mounted at /in)'
      ],
      ['b', 'skipped', expect.any(String)]
    ])
    expect(backend.events.map((e) => e.call).filter((c) => c.startsWith('prepareImage'))).toEqual([
      'prepareImage img'
    ])
    expect(lines[lines.length - 1]).toMatch(/^run r1 failure: /)
  })
})

describe("ddeutil's docker_host on the fake backend", () => {
  it.each([
    ['memory', 'success', undefined],
    [
      'tcp://other:2375',
      'failure',
      "pipeline.yml:2:3: jobs.a.runs-on.with.docker_host 'tcp://other:2375' is not this run's engine (memory): a run uses one engine for every job (its workspace, cleanup and checks are whole); leave it out, or point DOCKER_HOST (or --backend) at it"
    ]
  ])('docker_host %s: %s', async (host, status, error) => {
    const { result } = await run(`jobs:
  a:
    runs-on: {with: {image: img, docker_host: '${host}'}}
    stages: [{name: s, type: sh, run: work}]
`)
    expect([result.jobs[0].status, result.jobs[0].error]).toEqual([status, error])
  })
})

describe("ddeutil's remove: false on the fake backend", () => {
  const kept = (keptIf = '') => `jobs:
  a:
    runs-on: {with: {image: img, remove: false}}${keptIf}
    stages: [{name: s, type: sh, run: work}]
  b: ${job()}
`
  it("keeps that job's container and what it stands on, and says how to remove them", async () => {
    const { backend, lines } = await run(kept())
    const removed = backend.events.filter((e) => e.call === 'remove').map((e) => e.instance)
    expect(removed).toEqual(['b'])
    expect(backend.events.map((e) => e.call).filter((c) => c === 'kept' || c === 'sweep')).toEqual([
      'kept'
    ])
    expect(lines).toContain('remove them with: ctr-pipeline cleanup --run-id r1')
  })

  it('removes everything when the kept job never ran', async () => {
    const { backend } = await run(kept('\n    if: "false"'))
    expect(backend.events.map((e) => e.call).filter((c) => c === 'kept' || c === 'sweep')).toEqual([
      'sweep'
    ])
  })
})
