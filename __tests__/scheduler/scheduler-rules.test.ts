import { FakeBackend } from '../../src/backend/fake/fake-backend.js'
import { job, run, spans, statuses } from '../helpers/fake-run.js'

describe('the scheduler, on the fake backend', () => {
  it('warns of an unset ${VAR} in auth.password as of any other value', async () => {
    const { lines } = await run(
      `jobs:\n  a:\n    runs-on: {with: {image: img, auth: {username: me, password: '\${NOPE_PW}'}}}\n    stages: [{name: s, type: sh, run: work}]\n`
    )
    expect(lines).toContain("[a] warning: ${NOPE_PW} is not set in the environment; using ''")
  })

  it.each([
    [
      '2.5',
      2,
      'pipeline.yml:3:51: jobs.a.runs-on.with.resources.cpu asks for 2.5 CPUs; the engine has 2'
    ],
    ['2', 2, undefined],
    ['2.5', undefined, undefined]
  ])(
    'cpu: %s on a backend with %s CPUs: before anything starts, the key at its line',
    async (cpu, cpus, error) => {
      const { result, backend } = await run(
        `jobs:\n  a:\n    runs-on: {with: {image: img, resources: {cpu: '${cpu}'}}}\n    stages: [{name: s, type: sh, run: work}]\n  b: ${job()}\n`,
        cpus === undefined ? {} : { cpus }
      )
      expect(result.jobs.find((j) => j.id === 'a')?.error).toBe(error)
      expect(statuses(result)).toEqual(
        error ? { a: 'failure', b: 'skipped' } : { a: 'success', b: 'success' }
      )
      if (error) expect(backend.plans).toEqual([])
    }
  )

  it('starts a job only after every job it needs has finished (a diamond)', async () => {
    const { result, backend } = await run(
      `jobs:
  a: ${job()}
  b: ${job(', needs: a')}
  c: ${job(', needs: a')}
  d: ${job(', needs: [b, c]')}
`,
      { process: ({ job }) => ({ delayMs: job === 'a' ? 30 : 10 }) }
    )
    expect(statuses(result)).toEqual({ a: 'success', b: 'success', c: 'success', d: 'success' })
    const at = spans(backend)
    for (const [after, before] of [
      ['b', 'a'],
      ['c', 'a'],
      ['d', 'b'],
      ['d', 'c']
    ]) {
      expect(at.get(after)![0]).toBeGreaterThanOrEqual(at.get(before)![1])
    }
    // b and c are one level: they ran side by side.
    expect(at.get('b')![0]).toBeLessThan(at.get('c')![1])
    expect(at.get('c')![0]).toBeLessThan(at.get('b')![1])
  })

  it.each([
    [1, undefined, 1],
    [2, undefined, 2],
    [3, 8, 3],
    [8, 3, 3]
  ])(
    'runs at most max_parallel %s instances at once (run limit %s): peak %s',
    async (jobLimit, runLimit, peak) => {
      const { result, backend } = await run(
        `jobs:
  m:
    strategy: {max_parallel: ${jobLimit}, matrix: {i: [1, 2, 3, 4, 5, 6, 7, 8]}}
    runs-on: {with: {image: img}}
    stages: [{name: s, type: sh, run: work}]
`,
        { process: () => ({ delayMs: 20 }) },
        { maxParallel: runLimit ?? 8 }
      )
      expect(result.status).toBe('success')
      expect(backend.peakRunning).toBe(peak)
    }
  )

  it('fail_fast: the first failed instance cancels its siblings, running and waiting', async () => {
    const { result, backend } = await run(
      `jobs:
  m:
    strategy: {max_parallel: 2, matrix: {i: [1, 2, 3, 4]}}
    runs-on: {with: {image: img}}
    stages: [{name: s, type: sh, run: work}]
`,
      { process: ({ instance }) => (instance === 'm-1' ? { exitCode: 3 } : { delayMs: 5000 }) }
    )
    expect(result.jobs.map((j) => [j.id, j.status])).toEqual([
      ['m (1)', 'failure'],
      ['m (2)', 'cancelled'],
      ['m (3)', 'cancelled'],
      ['m (4)', 'cancelled']
    ])
    // The running sibling was killed; the waiting ones never ran.
    expect(backend.calls((e) => e.call === 'killed')).toEqual(['killed m-2 s'])
    expect(backend.calls((e) => e.call === 'run').sort()).toEqual(['run m-1 s', 'run m-2 s'])
  })

  it('without fail_fast, every instance runs to its end', async () => {
    const { result } = await run(
      `jobs:
  m:
    strategy: {fail_fast: false, max_parallel: 2, matrix: {i: [1, 2, 3]}}
    runs-on: {with: {image: img}}
    stages: [{name: s, type: sh, run: work}]
`,
      { process: ({ instance }) => ({ exitCode: instance === 'm-1' ? 3 : 0, delayMs: 10 }) }
    )
    expect(result.jobs.map((j) => j.status)).toEqual(['failure', 'success', 'success'])
  })

  it.each([
    [0, 1, 'failure'],
    [1, 2, 'failure'],
    [2, 3, 'success'],
    [5, 3, 'success']
  ])(
    'retry count %s: %s attempts, then %s (the stage succeeds on its 3rd run)',
    async (count, attempts, status) => {
      const { result, backend } = await run(`jobs:\n  a: ${job(`, retry: {count: ${count}}`)}\n`, {
        process: ({ run }) => ({ exitCode: run >= 3 ? 0 : 1 })
      })
      expect([result.jobs[0].status, result.jobs[0].attempts]).toEqual([status, attempts])
      expect(backend.calls((e) => e.call === 'run')).toHaveLength(attempts)
    }
  )

  it("a stage's timeout kills it, fails the job, and later stages are skipped", async () => {
    const { result, backend } = await run(
      `jobs:
  a:
    runs-on: {with: {image: img}}
    stages:
      - {name: slow, type: sh, run: work, timeout: 200ms}
      - {name: after, type: sh, run: work}
`,
      { process: ({ stage }) => ({ delayMs: stage === 'slow' ? 60_000 : 0 }) }
    )
    const [a] = result.jobs
    expect(a.status).toBe('failure')
    expect(a.stages.map((s) => [s.id, s.status, s.timed_out])).toEqual([
      ['slow', 'failure', true],
      ['after', 'skipped', false]
    ])
    expect(a.stages[0].error).toBe('timed out after 0.2s')
    expect(backend.calls((e) => e.call === 'kill' || e.call === 'killed')).toEqual([
      'kill a',
      'killed a slow'
    ])
  })

  it.each<[string, boolean, string[]]>([
    [
      'a backend that cannot kill a stage alone kills the container and starts it again',
      false,
      ['start a', 'kill a', 'killed a slow', 'start a']
    ],
    [
      "a backend that kills the stage alone keeps the container (the docker backend's driver)",
      true,
      ['start a', 'killStage a', 'killed a slow']
    ]
  ])("a stage's timeout: %s", async (_name, stageKills, calls) => {
    const { result, backend } = await run(
      `jobs:
  a:
    runs-on: {with: {image: img}}
    stages:
      - {name: slow, type: sh, run: work, timeout: 200ms}
      - {name: after, type: sh, run: work, if: always()}
`,
      { stageKills, process: ({ stage }) => ({ delayMs: stage === 'slow' ? 60_000 : 0 }) }
    )
    expect(result.jobs[0].stages.map((s) => [s.id, s.status, s.timed_out])).toEqual([
      ['slow', 'failure', true],
      ['after', 'success', false]
    ])
    expect(backend.calls((e) => /^(start|kill|killStage|killed)$/.test(e.call))).toEqual(calls)
  })

  it.each<[string, boolean, string[]]>([
    [
      'with keep, nothing is swept, and the log names what is left and how to remove it',
      true,
      [
        'kept containers: ctr-r1-a ctr-r1-b',
        'kept volumes: ctr-pipeline-r1',
        'kept networks: ctr-pipeline-r1',
        'remove them with: ctr-pipeline cleanup --run-id r1'
      ]
    ],
    ['without keep, the run is swept and nothing is listed', false, []]
  ])('%s', async (_name, keep, expected) => {
    const { backend, lines } = await run(`jobs:\n  a: ${job()}\n  b: ${job()}\n`, {}, { keep })
    expect(lines.filter((l) => /^(kept|remove them)/.test(l))).toEqual(expected)
    expect(backend.calls((e) => e.call === 'sweep' || e.call === 'kept')).toEqual(
      keep ? ['kept'] : ['sweep']
    )
  })

  it("a stage's timeout stays its failure when the backend's hand-off fails after the kill", async () => {
    // As a swarm task killed mid-stage cannot send the workspace back.
    const { result } = await run(
      `jobs:\n  a:\n    runs-on: {with: {image: img}}\n    stages:\n      - {name: slow, type: sh, run: work, timeout: 200ms}\n`,
      { process: () => ({ delayMs: 60_000, failsAfter: 'could not send what the task wrote' }) }
    )
    const [a] = result.jobs
    expect([a.status, a.error, a.stages[0].timed_out]).toEqual([
      'failure',
      "stage 'slow' failed: timed out after 0.2s",
      true
    ])
  })

  it("a job's timeout kills its container and fails it as timed out", async () => {
    const { result } = await run(`jobs:\n  a: ${job(', timeout: 300ms')}\n`, {
      process: () => ({ delayMs: 60_000 })
    })
    expect(result.jobs[0]).toMatchObject({
      status: 'failure',
      timed_out: true,
      error: 'job timed out after 0.3s'
    })
  })

  it('always() runs after a failure; the default if: skips a stage after one', async () => {
    const { result } = await run(
      `jobs:
  a:
    runs-on: {with: {image: img}}
    stages:
      - {name: fails, type: sh, run: work}
      - {name: skipped, type: sh, run: work}
      - {name: cleanup, type: sh, run: work, if: "always()"}
  b: ${job(', needs: a')}
  c: ${job(', needs: a, if: "always()"')}
`,
      { process: ({ stage }) => ({ exitCode: stage === 'fails' ? 2 : 0 }) }
    )
    expect(result.jobs[0].stages.map((s) => s.status)).toEqual(['failure', 'skipped', 'success'])
    expect(statuses(result)).toEqual({ a: 'failure', b: 'skipped', c: 'success' })
  })

  it('names an OOM kill with the limit it hit', async () => {
    const { result } = await run(
      `jobs:\n  a: {runs-on: {with: {image: img, resources: {memory: 32m}}}, stages: [{name: s, type: sh, run: work}]}\n`,
      { process: () => ({ oom: true }) }
    )
    expect(result.jobs[0]).toMatchObject({ status: 'failure', oom_killed: true, exit_code: 137 })
    expect(result.jobs[0].error).toBe(
      "stage 's' failed: killed for memory: it hit its memory limit of 32m (resources.memory); exit code 137"
    )
  })

  it('cancel: every started job is killed, none starts after, and the sweep comes last', async () => {
    const controller = new AbortController()
    const backend = new FakeBackend({ process: () => ({ delayMs: 60_000 }) })
    const running = run(
      `jobs:
  a: ${job()}
  b: ${job()}
  c: ${job(', needs: [a, b]')}
`,
      {},
      { backend, signal: controller.signal }
    )
    while (backend.calls((e) => e.call === 'run').length < 2)
      await new Promise((resolve) => setTimeout(resolve, 5))
    controller.abort()
    const { result } = await running
    expect(statuses(result)).toEqual({ a: 'cancelled', b: 'cancelled', c: 'cancelled' })
    expect(backend.calls((e) => e.call === 'killed').sort()).toEqual(['killed a s', 'killed b s'])
    expect(backend.calls((e) => e.instance === 'c' && e.call === 'run')).toEqual([])
    // The run kills whatever it has at once (warm containers too), and sweeps last.
    const calls = backend.calls()
    expect(calls.indexOf('killRun')).toBeGreaterThan(-1)
    expect(calls.indexOf('killRun')).toBeLessThan(calls.indexOf('sweep'))
    expect(calls.at(-1)).toBe('sweep')
    expect(backend.leftovers()).toEqual({ containers: 0, volumes: 0, networks: 0 })
  })

  it('a lost backend ends the run as lost, and nothing is asked of it after', async () => {
    const backend = new FakeBackend({ process: () => ({ delayMs: 60_000 }) })
    const running = run(`jobs:\n  a: ${job()}\n`, {}, { backend })
    while (backend.calls((e) => e.call === 'run').length < 1)
      await new Promise((resolve) => setTimeout(resolve, 5))
    backend.lose()
    const { result } = await running
    expect(result).toMatchObject({ status: 'failure', engine_lost: true })
    expect(result.error).toBe(
      "the fake backend went away; 1 container and the run's volumes and network may be left: run `ctr-pipeline cleanup --run-id r1`"
    )
    expect(backend.calls()).not.toContain('sweep')
  })

  it('fails a job whose exec fails after its stages ended, and skips what needs it', async () => {
    const { result } = await run(
      `jobs:
  a: {runs-on: {with: {image: img}}, stages: [{name: s1, type: sh, run: x}, {name: s2, type: sh, run: y}]}
  b: ${job(', needs: a')}
`,
      {
        process: ({ job, stage }) =>
          job === 'a' && stage === 's2' ? { failsAfter: 'the hand-off failed' } : {}
      }
    )
    expect(statuses(result)).toEqual({ a: 'failure', b: 'skipped' })
    expect(result.jobs[0].error).toBe('the hand-off failed')
    expect(result.jobs[0].stages.map((s) => s.status)).toEqual(['success', 'success'])
  })

  it('hands outputs from a stage to the jobs that need it, and cleans everything up', async () => {
    const { result, backend } = await run(
      `jobs:
  a: {runs-on: {with: {image: img}}, stages: [{name: s, type: sh, run: work}], outputs: {v: "{{ stages.s.outputs.v }}"}}
  b: {needs: a, runs-on: {with: {image: img, environment: {V: "{{ needs.a.outputs.v }}"}}}, stages: [{name: s, type: sh, run: work}]}
`,
      { process: ({ job }) => (job === 'a' ? { outputs: { v: '42' } } : {}) }
    )
    expect(result.jobs.map((j) => j.outputs)).toEqual([{ v: '42' }, {}])
    expect(backend.leftovers()).toEqual({ containers: 0, volumes: 0, networks: 0 })
    expect(backend.plans.find((p) => p.labels['ctr-pipeline.job'] === 'b')?.env.V).toBe('42')
    const calls = backend.calls()
    expect(calls.indexOf('setupRun')).toBeLessThan(calls.findIndex((c) => c.startsWith('create')))
    expect(calls.at(-1)).toBe('sweep')
  })
})
