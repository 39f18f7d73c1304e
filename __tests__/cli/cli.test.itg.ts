import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  BUSYBOX,
  docker,
  leftovers,
  NOTHING_LEFT,
  pipelineFile,
  tempDir
} from '../helpers/engine.js'
import { CLI, runNode, Spawned } from '../helpers/processes.js'
import { writeInitFiles } from '../../src/cli/init.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

const SLOW = `jobs:
  first:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: nap, type: sh, run: "echo napping; sleep 60"}
  second:
    needs: [first]
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: never, type: sh, run: "true"}
`

describe('ctr-pipeline (the bundled CLI)', () => {
  it('runs the starter pipeline `init` writes', async () => {
    const dir = tempDir()
    await writeInitFiles(dir, { image: BUSYBOX, force: false })
    const { code, stdout } = await runNode(CLI, ['run', path.join(dir, 'ctr-pipeline.yml')])
    expect(code).toBe(0)
    expect(stdout).toContain(`[build] hello from ${process.arch === 'x64' ? 'x86_64' : 'aarch64'}`)
    expect(stdout).toContain('[test] job success')
  })

  it('--result - writes the result document alone to stdout, and the log to stderr', async () => {
    const file = pipelineFile(`jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}}}
    outputs: {word: "{{ stages.s.outputs.word }}"}
    stages: [{name: s, type: sh, run: 'echo printed; echo word=kept >> "$CTR_OUTPUT"'}]
`)
    const { code, stdout, stderr } = await runNode(CLI, ['run', file, '--result', '-'])
    expect(code).toBe(0)
    const doc = JSON.parse(stdout) as {
      status: string
      jobs: Array<{ outputs: unknown; started_at: string; stages: Array<{ started_at: string }> }>
    }
    expect([doc.status, doc.jobs[0].outputs]).toEqual(['success', { word: 'kept' }])
    // The stage's start (the summary's timeline draws it) falls within its job's run.
    const [job] = doc.jobs
    const stageAt = Date.parse(job.stages[0].started_at)
    expect(stageAt - Date.parse(job.started_at)).toBeGreaterThanOrEqual(0)
    expect(stageAt - Date.parse(job.started_at)).toBeLessThan(10_000)
    expect(stderr.split('\n')).toContain('[a] printed')
    expect(existsSync('-')).toBe(false)
  })

  it('runs the quick start, exits 0 and writes the result document', async () => {
    const result = path.join(tempDir(), 'result.json')
    const { code, stdout } = await runNode(CLI, [
      'run',
      'examples/quickstart.yml',
      '--result',
      result
    ])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^run \S+ success: prep success, report success/m)
    const doc = JSON.parse(readFileSync(result, 'utf8'))
    expect(doc).toMatchObject({ status: 'success', pipeline: 'quickstart' })
    expect(doc.jobs.map((j: { id: string; outputs: object }) => [j.id, j.outputs])).toEqual([
      ['prep', { rows: '5', units: '36' }],
      ['report', { report: '/ctr/workspace/report.txt' }]
    ])
  })

  it('takes params from --param', async () => {
    const { code, stdout } = await runNode(CLI, [
      'run',
      'examples/quickstart.yml',
      '--param',
      'dataset=missing'
    ])
    expect(code).toBe(1)
    expect(stdout).toContain('[prep] counting rows of missing')
    expect(stdout).toContain(
      "FileNotFoundError: [Errno 2] No such file or directory: 'missing.csv'"
    )
  })

  it.each([
    ['a YAML syntax error', 'jobs:\n  a: [1, 2\n', /pipeline\.yml:\d+:\d+: YAML syntax error/],
    [
      'an unknown key',
      `jobs:\n  a:\n    runs-on: {with: {image: x}}\n    stagse: []\n`,
      /pipeline\.yml:4:5: jobs\.a: unknown key 'stagse' \(did you mean 'stages'\?\)/
    ]
  ])(
    'exits 2 on %s, naming FILE:LINE:COL, without a stack trace',
    async (_what, yaml, expected) => {
      const file = pipelineFile(yaml)
      const { code, stderr } = await runNode(CLI, ['run', file])
      expect(code).toBe(2)
      expect(stderr).toMatch(expected)
      expect(stderr).not.toMatch(/\n\s+at /)
    }
  )

  it.each([
    [
      ['run', 'examples/quickstart.yml', '--param', 'novalue'],
      "--param 'novalue': expected KEY=VALUE"
    ],
    [['run', 'examples/quickstart.yml', '--job', 'nope'], '--job nope: no such job'],
    [['run', 'examples/quickstart.yml', '--bogus'], "unknown option '--bogus'"],
    [
      ['run', 'examples/quickstart.yml', '--max-parallel', '0'],
      "option '--max-parallel <n>' argument '0' is invalid. expected a whole number of at least 1"
    ],
    [
      ['run', 'examples/quickstart.yml', '--schedule-timeout', 'soon'],
      "option '--schedule-timeout <duration>' argument 'soon' is invalid. expected a duration such as 90s or 5m"
    ],
    [
      ['run', 'examples/quickstart.yml', '--registry', 'https://registry.example.com'],
      "option '--registry <host>' argument 'https://registry.example.com' is invalid. expected HOST[:PORT][/PATH], without a scheme (e.g. registry.example.com:5000)"
    ],
    [
      ['cleanup', '--backend', 'swarm', '--swarm-host', 'manager:2375'],
      "option '--swarm-host <url>' argument 'manager:2375' is invalid. expected unix:///PATH, tcp://HOST:PORT or ssh://USER@HOST, as DOCKER_HOST takes it"
    ],
    [['run', 'no-such-file.yml'], 'no-such-file.yml:1:1: cannot read pipeline file: no such file'],
    [
      ['run', 'examples/quickstart.yml', '--backend', 'k8s'],
      "--backend: no backend 'k8s' (known: docker, swarm)"
    ],
    [
      ['cleanup', '--backend', 'kubernetes'],
      "--backend: no backend 'kubernetes' (known: docker, swarm)"
    ]
  ])('exits 2 on a bad command line: %j', async (args, message) => {
    const { code, stderr } = await runNode(CLI, args)
    expect(code).toBe(2)
    expect(stderr).toContain(message)
  })

  it('exits 3 with one line saying how to start an engine when none is reachable', async () => {
    const { code, stderr } = await runNode(CLI, ['run', 'examples/quickstart.yml'], {
      DOCKER_HOST: 'unix:///tmp/ctr-no-engine.sock'
    })
    expect(code).toBe(3)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(
      /^cannot reach the Docker engine at unix:\/\/\/tmp\/ctr-no-engine\.sock .*start one/
    )
  })

  it('validates files: every problem at once, exit 2', async () => {
    const good = pipelineFile(`jobs:\n  a:\n    runs-on: {with: {image: x}}\n`)
    const bad = pipelineFile(
      `jobs:\n  a:\n    needs: [b]\n    runs-on: {with: {image: x, usr: y}}\n`
    )
    const { code, stdout, stderr } = await runNode(CLI, ['validate', good, bad])
    expect(code).toBe(2)
    expect(stdout).toContain(`${good}: valid`)
    expect(stderr).toContain(
      `${bad}:4:32: jobs.a.runs-on.with: unknown key 'usr' (did you mean 'user'?)`
    )
    expect(stderr).toContain(`${bad}:3:13: jobs.a.needs names 'b', which is not a job in this file`)
  })

  it("validates all of seed 001's examples, exit 0", async () => {
    const dir = path.join(import.meta.dirname, '../fixtures/seed-001')
    const files = readdirSync(dir).map((f) => path.join(dir, f))
    const { code, stdout } = await runNode(CLI, ['validate', ...files])
    expect(code).toBe(0)
    expect(stdout.trim().split('\n')).toEqual(files.map((f) => `${f}: valid`))
  })

  it('validates a matrix too large to run, at the matrix, exit 2', async () => {
    const file = pipelineFile(
      `jobs:\n  a:\n    strategy:\n      matrix: {x: [${range(17)}], y: [${range(16)}]}\n    runs-on: {with: {image: x}}\n`
    )
    const { code, stderr } = await runNode(CLI, ['validate', file])
    expect(code).toBe(2)
    expect(stderr.trim()).toBe(
      `${file}:4:7: jobs.a: the matrix makes 272 instances; at most 256 may run`
    )
  })

  it('plans as JSON: instances in order with their container options, params applied', async () => {
    const file = pipelineFile(`params: {tag: {default: v1}}
jobs:
  build: {runs-on: {with: {image: "app:{{ params.tag }}"}}, outputs: {v: "1"}}
  test:
    needs: build
    strategy: {matrix: {os: [a, b], n: [1, 2], exclude: [{os: b, n: 1}]}, max_parallel: 2}
    runs-on: {with: {image: "{{ matrix.os }}", environment: {V: "{{ needs.build.outputs.v }}"}}}
`)
    const { code, stdout } = await runNode(CLI, ['plan', file, '--json', '--param', 'tag=v2'])
    expect(code).toBe(0)
    const doc = JSON.parse(stdout)
    expect(doc.levels).toEqual([['build'], ['test']])
    expect(doc.jobs[0].instances[0].container.image.ref).toBe('app:v2')
    expect(doc.jobs[1].max_parallel).toBe(2)
    expect(doc.jobs[1].instances.map((i: { id: string }) => i.id)).toEqual([
      'test (a, 1)',
      'test (a, 2)',
      'test (b, 2)'
    ])
    // The neutral container plan, as the README documents it.
    expect(doc.jobs[1].instances[0].container).toEqual({
      runId: 'RUN-ID',
      name: 'ctr-RUN-ID-test-1',
      image: { kind: 'pull', ref: 'a', policy: 'missing' },
      runs: 'command',
      env: {
        V: '{{ needs.build.outputs.v }}',
        CTR_WORKSPACE: '/ctr/workspace',
        CTR_RUN_ID: 'RUN-ID',
        CTR_JOB_ID: 'test',
        CTR_JOB_DIR: '/ctr/workspace/jobs/test-1'
      },
      labels: {
        'ctr-pipeline.managed': 'true',
        'ctr-pipeline.run-id': 'RUN-ID',
        'ctr-pipeline.job': 'test',
        'ctr-pipeline.instance': 'test-1'
      },
      mounts: [{ type: 'workspace', target: '/ctr' }],
      resources: { ulimits: [] },
      network: {
        mode: 'ctr-pipeline-RUN-ID',
        aliases: ['test-1'],
        ports: [],
        extraHosts: [],
        dns: []
      },
      security: {
        privileged: false,
        capAdd: [],
        capDrop: [],
        readOnlyRootfs: false,
        noNewPrivileges: false
      }
    })
  })

  it('plans as a Mermaid diagram and as text', async () => {
    const file = pipelineFile(
      `jobs:\n  a: {runs-on: {with: {image: x}}}\n  b: {needs: a, runs-on: {with: {image: y}}}\n`
    )
    const mermaid = await runNode(CLI, ['plan', file, '--format', 'mermaid'])
    expect(mermaid.stdout).toBe('flowchart LR\n  j0["a"]\n  j1["b"]\n  j0 --> j1\n')
    const text = await runNode(CLI, ['plan', file])
    expect(text.stdout).toContain('level 1:\n  b (needs a)\n    b: y as ctr-RUN-ID-b\n')
    const bad = await runNode(CLI, ['plan', file, '--format', 'dot'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      "argument 'dot' is invalid. Allowed choices are text, json, mermaid"
    )
  })

  it('--untrusted refuses host access before anything starts (exit 2, at the line); it hardens what it runs', async () => {
    const line = `    runs-on: {with: {image: ${BUSYBOX}, privileged: true, volumes: [{source: /etc, target: /h}]}}`
    const file = pipelineFile(`jobs:\n  a:\n${line}\n`)
    const refused = await runNode(CLI, ['run', file, '--untrusted'])
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim().split('\n')).toEqual([
      `${file}:3:${line.indexOf('true') + 1}: jobs.a: privileged: true gives the job the whole host; refused for an untrusted pipeline (pull request from a fork)`,
      `${file}:3:${line.indexOf('/etc') + 1}: jobs.a: mounts the host path /etc; refused for an untrusted pipeline: only paths inside ${process.cwd()} may be mounted`
    ])
    const hardened = pipelineFile(
      `jobs:\n  a:\n    runs-on: {with: {image: ${BUSYBOX}}}\n    stages: [{name: s, type: sh, run: 'grep NoNewPrivs /proc/self/status; cat /sys/fs/cgroup/pids/pids.max'}]\n`
    )
    const { code, stdout } = await runNode(CLI, ['run', hardened, '--untrusted'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^\[a\] NoNewPrivs:\s+1$/m)
    expect(stdout).toMatch(/^\[a\] 1024$/m)
  })

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    'on %s during a running stage: kills, removes everything labelled within 10 s, exits 130',
    async (signal) => {
      const run = new Spawned(CLI, ['run', pipelineFile(SLOW)])
      const [, runId] = await run.waitFor(/^run (\S+):/m)
      await run.waitFor(/\[first\] napping/)
      const sent = Date.now()
      run.child.kill(signal)
      const { code, stdout } = await run.exited
      expect(code).toBe(130)
      expect(Date.now() - sent).toBeLessThan(10_000)
      expect(stdout).toMatch(/^\[second\] job cancelled \(\d/m)
      expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
    }
  )

  it('connects where the current Docker context points, and says so in its first line', async () => {
    const home = tempDir()
    const socket = path.join(home, 'engine.sock')
    symlinkSync('/var/run/docker.sock', socket)
    const id = createHash('sha256').update('lab').digest('hex')
    mkdirSync(path.join(home, '.docker', 'contexts', 'meta', id), { recursive: true })
    writeFileSync(path.join(home, '.docker', 'config.json'), '{"currentContext": "lab"}')
    const meta = { Name: 'lab', Endpoints: { docker: { Host: `unix://${socket}` } } }
    writeFileSync(
      path.join(home, '.docker', 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify(meta)
    )
    const env = { HOME: home, DOCKER_HOST: undefined, DOCKER_CONTEXT: undefined }
    const ok = await runNode(CLI, ['run', 'examples/quickstart.yml'], env)
    expect(ok.code).toBe(0)
    expect(ok.stdout.split('\n')[0]).toMatch(
      new RegExp(
        `^run \\S+: quickstart \\(examples/quickstart\\.yml\\) on docker at unix://${socket} \\(context lab\\)$`
      )
    )
    // Pointed elsewhere, it goes there (and fails), never to the default socket.
    meta.Endpoints.docker.Host = `unix://${home}/nothing.sock`
    writeFileSync(
      path.join(home, '.docker', 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify(meta)
    )
    const gone = await runNode(CLI, ['run', 'examples/quickstart.yml'], env)
    expect(gone.code).toBe(3)
    expect(gone.stderr).toContain(
      `cannot reach the Docker engine at unix://${home}/nothing.sock (ENOENT)`
    )
  })

  it('a reader that quits (run ... | head) cancels the run as SIGPIPE would: no stack trace, nothing left, 130', async () => {
    const chatty = SLOW.replace(
      'echo napping; sleep 60',
      'while true; do echo napping; sleep 0.1; done'
    )
    const run = new Spawned(CLI, ['run', pipelineFile(chatty)])
    const [, runId] = await run.waitFor(/^run (\S+):/m)
    await run.waitFor(/\[first\] napping/)
    // The next line the run writes meets the closed pipe.
    run.child.stdout!.destroy()
    const { code, stderr } = await run.exited
    expect(code).toBe(130)
    expect(stderr).toBe('')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('with --keep, an interrupt kills the containers but keeps them and the volume for debugging', async () => {
    const run = new Spawned(CLI, ['run', pipelineFile(SLOW), '--keep'])
    const [, runId] = await run.waitFor(/^run (\S+):/m)
    await run.waitFor(/\[first\] napping/)
    run.child.kill('SIGTERM')
    const { code, stdout } = await run.exited
    expect(code).toBe(130)
    expect(await leftovers(runId)).toEqual({ containers: 1, volumes: 1, networks: 1, images: 0 })
    const filters = JSON.stringify({ label: [`ctr-pipeline.run-id=${runId}`] })
    const [kept] = await docker.listContainers({ all: true, filters })
    expect(kept.State).toBe('exited')
    // It says what it kept, by the names docker shows, and how to remove it.
    const { Volumes } = await docker.listVolumes({ filters })
    const [network] = await docker.listNetworks({ filters })
    expect(stdout.split('\n').filter((l) => /^(kept|remove them)/.test(l))).toEqual([
      `kept containers: ${kept.Names[0].slice(1)}`,
      `kept volumes: ${Volumes[0].Name}`,
      `kept networks: ${network.Name}`,
      `remove them with: ctr-pipeline cleanup --run-id ${runId}`
    ])
    await runNode(CLI, ['cleanup', '--run-id', runId])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('cleanup --run-id removes what a hard-killed run left behind', async () => {
    const run = new Spawned(CLI, ['run', pipelineFile(SLOW)])
    const [, runId] = await run.waitFor(/^run (\S+):/m)
    await run.waitFor(/\[first\] napping/)
    run.child.kill('SIGKILL')
    await run.exited
    // The running job's container, and the next job's, made ready while the first ran.
    expect(await leftovers(runId)).toEqual({ containers: 2, volumes: 1, networks: 1, images: 0 })
    const { code, stdout } = await runNode(CLI, ['cleanup', '--run-id', runId])
    expect(code).toBe(0)
    expect(stdout).toBe('removed 2 containers, 1 volumes, 1 networks, 0 built images\n')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it.each([
    [
      'the default 1 MiB',
      {},
      2 * 1024 ** 2,
      'output',
      '$CTR_OUTPUT holds 2 MiB, more than the 1 MiB'
    ],
    [
      'CTR_OUTPUT_LIMIT=64k',
      { CTR_OUTPUT_LIMIT: '64k' },
      100_000,
      'output',
      '$CTR_OUTPUT holds 97.7 KiB, more than the 64 KiB'
    ],
    [
      'CTR_OUTPUT_LIMIT=64k',
      { CTR_OUTPUT_LIMIT: '64k' },
      100_000,
      'annotations',
      '$CTR_ANNOTATIONS holds 97.7 KiB, more than the 64 KiB'
    ]
  ])(
    'a stage writing past %s fails its job cleanly and leaves nothing (%#)',
    async (_name, env, bytes, file, message) => {
      const result = path.join(tempDir(), 'result.json')
      const variable = file === 'output' ? 'CTR_OUTPUT' : 'CTR_ANNOTATIONS'
      const yaml = `jobs:
  big:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: write, type: sh, run: 'head -c ${bytes} /dev/zero | tr "\\0" x >> "$${variable}"'}
  after:
    needs: [big]
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: never, type: sh, run: "true"}]
`
      const { code, stdout, stderr } = await runNode(
        CLI,
        ['run', pipelineFile(yaml), '--result', result],
        env
      )
      expect(stderr).not.toContain('    at ')
      expect(code).toBe(1)
      const why = `${message} a stage may write there (CTR_OUTPUT_LIMIT): write large values to a file in $CTR_WORKSPACE and output its path`
      expect(stdout).toContain(why)
      const document = JSON.parse(readFileSync(result, 'utf8')) as {
        jobs: { id: string; status: string; error?: string }[]
      }
      expect(document.jobs.map((j) => [j.id, j.status])).toEqual([
        ['big', 'failure'],
        ['after', 'skipped']
      ])
    }
  )

  it.each(['lots', '0', '1t'])('CTR_OUTPUT_LIMIT=%s is a usage error (exit 2)', async (value) => {
    const { code, stderr } = await runNode(CLI, ['run', 'examples/quickstart.yml'], {
      CTR_OUTPUT_LIMIT: value
    })
    expect(code).toBe(2)
    expect(stderr.trim()).toBe(
      `CTR_OUTPUT_LIMIT is '${value}': expected a size such as 1m or 65536, at most 256m`
    )
  })

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'an interrupt (%s) during a build leaves no build tag, container or volume',
    async (signal) => {
      const dir = tempDir()
      mkdirSync(path.join(dir, 'app'))
      writeFileSync(
        path.join(dir, 'app', 'Dockerfile'),
        `FROM ${BUSYBOX}\nARG NONCE\nRUN echo "$NONCE" > /nonce && sleep 5\n`
      )
      const file = path.join(dir, 'pipeline.yml')
      writeFileSync(
        file,
        `jobs:
  built:
    runs-on: {with: {build: {context: app, args: {NONCE: "{{ run_id }}"}}}}
    stages: [{name: s, type: sh, run: "cat /nonce"}]
`
      )
      const run = new Spawned(CLI, ['run', file])
      const [, runId] = await run.waitFor(/^run (\S+):/m)
      // BuildKit's step line: the RUN has started.
      await run.waitFor(/\[2\/2\] RUN echo/)
      run.child.kill(signal)
      expect((await run.exited).code).toBe(130)
      expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
    }
  )

  it.each([
    ['no-such-folder/result.json', 'its folder does not exist'],
    ['.', 'it is a folder'],
    ['pipeline.yml/result.json', 'a part of its path is not a folder']
  ])('--result %s is a usage error before the run starts', async (where, why) => {
    const file = pipelineFile(SLOW)
    const result = path.join(path.dirname(file), where)
    const { code, stdout, stderr } = await runNode(CLI, ['run', file, '--result', result])
    expect(code).toBe(2)
    // Nothing ran: the SLOW pipeline would have taken a minute and printed its run id.
    expect(stdout).toBe('')
    expect(stderr.trim()).toBe(`--result ${result}: cannot write the result there (${why})`)
  })

  it('a run stopped by a usage error after the --result check leaves no empty result file', async () => {
    const result = path.join(tempDir(), 'result.json')
    const { code } = await runNode(CLI, ['run', 'examples/quickstart.yml', '--result', result], {
      CTR_OUTPUT_LIMIT: 'lots'
    })
    expect(code).toBe(2)
    expect(existsSync(result)).toBe(false)
  })

  it.each(['', ' ', '*', 'a b', '-x', 'x'.repeat(129)])(
    'cleanup --run-id %j is a usage error (exit 2) that removes nothing',
    async (id) => {
      const run = new Spawned(CLI, ['run', pipelineFile(SLOW)])
      const [, runId] = await run.waitFor(/^run (\S+):/m)
      await run.waitFor(/\[first\] napping/)
      const { code, stdout, stderr } = await runNode(CLI, ['cleanup', `--run-id=${id}`])
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr.trim()).toBe(
        `--run-id '${id}': expected a run id such as 20261121-021500-3f9a1c (letters, digits, '_', '.', '-')`
      )
      // The run going on meanwhile keeps its containers.
      expect((await leftovers(runId)).containers).toBe(2)
      run.child.kill('SIGINT')
      expect((await run.exited).code).toBe(130)
    }
  )

  it('a console that stops reading holds the stages back: memory stays bounded, every line arrives in order', async () => {
    const file = pipelineFile(`jobs:
  loud:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: flood, type: sh, run: "yes ${'x'.repeat(99)} | head -c 100000000"}
      - {name: count, type: sh, run: "seq 1 100000"}
`)
    const child = spawn(process.execPath, [CLI, 'run', file], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    const counts = { flood: 0, numbers: [] as number[] }
    let rest = ''
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n')
      rest = lines.pop()!
      for (const line of lines) {
        if (line.startsWith('[loud] xxx')) counts.flood++
        else if (/^\[loud\] \d+$/.test(line)) counts.numbers.push(Number(line.slice(7)))
      }
    })
    const exited = new Promise((resolve) => child.on('close', resolve))
    // Long enough for the 100 MB to be read from the engine, were nothing holding it back.
    child.stdout.pause()
    await sleep(4000)
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
    const rssMb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024
    child.stdout.resume()
    expect(await exited).toBe(0)
    expect(rssMb).toBeLessThan(160)
    expect(counts.flood).toBe(1_000_000)
    expect(counts.numbers).toEqual(Array.from({ length: 100_000 }, (_, i) => i + 1))
  })
})

function range(n: number): string {
  return Array.from({ length: n }, (_, i) => i).join(', ')
}
