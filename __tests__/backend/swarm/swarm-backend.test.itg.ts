import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { SwarmBackend } from '../../../src/backend/swarm/swarm-backend.js'
import type { RunResult } from '../../../src/scheduler/run-result.js'
import { BUSYBOX, filesUnder, PYTHON, runYaml, tempDir } from '../../helpers/engine.js'
import { CLI, runNode, Spawned } from '../../helpers/processes.js'
import {
  engineAt,
  lab,
  labEnv,
  labLeftovers,
  NOTHING_LEFT_ON_LAB
} from '../../helpers/swarm-lab.js'

/**
 * The swarm backend on the three-node lab of scripts/swarm-lab.sh: the same pipelines as
 * locally, spread over the nodes, with the same result document, and nothing left on any
 * node. Each job says which node ran it from its root file system's mount, which names
 * that node's data root (`/tmp/ctr-swarm-lab/nN`).
 */
const NODE_OF_TASK = "grep -o 'ctr-swarm-lab/n[0-9]' /proc/self/mountinfo | head -1 | cut -d/ -f2"

let manager: ReturnType<typeof engineAt>
let backend: () => SwarmBackend

beforeAll(() => {
  lab('up')
  manager = engineAt(labEnv().DOCKER_HOST)
  backend = () => new SwarmBackend(manager, { scheduleTimeoutMs: 20_000, helperImage: BUSYBOX })
}, 120_000)

afterAll(() => {
  lab('down')
  expect(lab('check')).toBe('')
}, 60_000)

describe('the swarm backend on the lab', () => {
  it('runs a 12-instance matrix over all three nodes with the outputs of every instance', async () => {
    const { result, runId } = await runYaml(
      `
jobs:
  spread:
    strategy: {matrix: {n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}}
    runs-on: {type: container, with: {image: ${BUSYBOX}, resources: {memory: 64m}}}
    outputs: {node: "{{ stages.where.outputs.node }}", twice: "{{ stages.double.outputs.v }}"}
    stages:
      - name: where
        type: sh
        run: |
          echo "node=$(${NODE_OF_TASK})" >> "$CTR_OUTPUT"; sleep 1
      - {name: double, type: sh, run: 'echo "v=$(( {{ matrix.n }} * 2 ))" >> "$CTR_OUTPUT"'}
`,
      { backend: backend(), maxParallel: 12 }
    )
    expect(result.status).toBe('success')
    expect(result.jobs.map((j) => j.outputs.twice)).toEqual([
      '2',
      '4',
      '6',
      '8',
      '10',
      '12',
      '14',
      '16',
      '18',
      '20',
      '22',
      '24'
    ])
    expect(new Set(result.jobs.map((j) => j.outputs.node))).toEqual(new Set(['n1', 'n2', 'n3']))
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 120_000)

  it('with keep, lists what the run left on the swarm by name, and cleanup removes it', async () => {
    const swarm = backend()
    const { result, runId, lines } = await runYaml(
      `jobs:\n  one: {runs-on: {with: {image: ${BUSYBOX}}}, stages: [{name: s, type: sh, run: 'true'}]}\n`,
      { backend: swarm, keep: true }
    )
    expect(result.status).toBe('success')
    const filters = JSON.stringify({ label: [`ctr-pipeline.run-id=${runId}`] })
    const services = await manager.listServices({ filters })
    // The manager's own containers (the workspace), not the tasks' containers of services.
    const own = (await manager.listContainers({ all: true, filters })).filter(
      (c) => !c.Labels['com.docker.swarm.service.id']
    )
    const networks = await manager.listNetworks({ filters })
    const names = [...services.map((x) => x.Spec!.Name!), ...own.map((c) => c.Names[0].slice(1))]
    expect(names.length).toBeGreaterThan(0)
    expect(lines.filter((l) => /^(kept|remove them)/.test(l))).toEqual([
      `kept containers: ${names.sort().join(' ')}`,
      `kept networks: ${networks
        .map((n) => n.Name)
        .sort()
        .join(' ')}`,
      `remove them with: ctr-pipeline cleanup --run-id ${runId}`
    ])
    expect(networks.length).toBeGreaterThan(0)
    await swarm.sweep(runId)
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 120_000)

  it('hands 64 MiB of the workspace from a job to the jobs that need it, on every node', async () => {
    const { result, runId } = await runYaml(
      `
jobs:
  write:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    outputs: {sum: "{{ stages.make.outputs.sum }}"}
    stages:
      - name: make
        type: sh
        run: |
          head -c 67108864 /dev/urandom > "$CTR_WORKSPACE/data.bin"
          mkdir -p "$CTR_WORKSPACE/a dir" && echo kept > "$CTR_WORKSPACE/a dir/note"
          echo "sum=$(md5sum "$CTR_WORKSPACE/data.bin" | cut -d' ' -f1)" >> "$CTR_OUTPUT"
  read:
    needs: [write]
    strategy: {matrix: {image: [${BUSYBOX}, ${PYTHON}, ${BUSYBOX}, ${PYTHON}, ${BUSYBOX}, ${PYTHON}]}}
    runs-on: {type: container, with: {image: "{{ matrix.image }}"}}
    outputs: {node: "{{ stages.check.outputs.node }}", sum: "{{ stages.check.outputs.sum }}"}
    stages:
      - name: check
        type: sh
        run: |
          echo "sum=$(md5sum "$CTR_WORKSPACE/data.bin" | cut -d' ' -f1)" >> "$CTR_OUTPUT"
          echo "node=$(${NODE_OF_TASK})" >> "$CTR_OUTPUT"
          test "$(cat "$CTR_WORKSPACE/a dir/note")" = kept
`,
      { backend: backend(), maxParallel: 6 }
    )
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['write', 'success', undefined],
      ...result.jobs.slice(1).map((j) => [j.id, 'success', undefined])
    ])
    const sum = result.jobs[0].outputs.sum
    expect(sum).toMatch(/^[0-9a-f]{32}$/)
    expect(result.jobs.slice(1).map((j) => j.outputs.sum)).toEqual(Array(6).fill(sum))
    // BusyBox's wget and Python's urllib fetched it, on more than one node.
    expect(new Set(result.jobs.slice(1).map((j) => j.outputs.node)).size).toBeGreaterThan(1)
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 120_000)

  it("creates a job's task before its turn, which runs its stages once it comes", async () => {
    // The manager's service events say when each job's service was created.
    const events = (await manager.getEvents({
      filters: JSON.stringify({ type: ['service'], event: ['create'] })
    })) as NodeJS.ReadableStream & { destroy(): void }
    const created = new Map<string, number>()
    events.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const event = JSON.parse(line) as {
          Actor: { Attributes: { name: string } }
          timeNano: number
        }
        created.set(event.Actor.Attributes.name, event.timeNano / 1e6)
      }
    })
    const job = (id: string, needs: string) => `
  ${id}:
    needs: [${needs}]
    runs-on: {with: {image: ${BUSYBOX}}}
    outputs: {n: "{{ stages.s.outputs.n }}"}
    stages:
      - name: s
        type: sh
        run: |
          echo "n=$(( {{ needs.${needs}.outputs.n }} + 1 ))" >> "$CTR_OUTPUT"
          echo "it's {{ needs.${needs}.outputs.n }}"`
    const { result, lines, runId } = await runYaml(
      `
jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}}}
    outputs: {n: "{{ stages.s.outputs.n }}"}
    stages: [{name: s, type: sh, run: 'echo n=1 >> "$CTR_OUTPUT"'}]${job('b', 'a')}${job('c', 'b')}${job('d', 'c')}
`,
      { backend: backend() }
    )
    events.destroy()
    expect(result.jobs.map((j) => [j.id, j.status, j.outputs.n])).toEqual([
      ['a', 'success', '1'],
      ['b', 'success', '2'],
      ['c', 'success', '3'],
      ['d', 'success', '4']
    ])
    expect(lines).toEqual(expect.arrayContaining(["[b] it's 1", "[c] it's 2", "[d] it's 3"]))
    // d's task was created while c still ran: warmed once a's frame had come back.
    const [c, d] = [result.jobs[2], result.jobs[3]]
    const createdD = [...created].find(([name]) => name.endsWith('-d'))?.[1]
    expect(createdD).toBeLessThan(Date.parse(c.started_at!) + c.duration_ms)
    expect(createdD).toBeLessThan(Date.parse(d.started_at!))
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 90_000)

  it('keeps a named volume in the workspace service: what a job writes, jobs on other nodes read', async () => {
    const on = (node: string) => `placement: {constraints: ['node.hostname == ${node}']}`
    const { result, lines, runId } = await runYaml(
      `
volumes:
  cache:
jobs:
  write:
    runs-on: {with: {image: ${BUSYBOX}, ${on('n1')}, volumes: [{source: cache, target: /cache}]}}
    stages:
      - {name: w, type: sh, run: 'mkdir -p /cache/d && echo one > /cache/d/f'}
  add:
    needs: [write]
    runs-on: {with: {image: ${PYTHON}, ${on('n2')}, volumes: [{source: cache, target: /data}]}}
    stages:
      - {name: a, type: sh, run: 'cat /data/d/f && echo two > /data/g'}
  peek:
    needs: [write]
    runs-on: {with: {image: ${BUSYBOX}, ${on('n3')}, volumes: [{source: cache, target: /c, mode: ro}]}}
    stages:
      - {name: p, type: sh, run: 'cat /c/d/f && echo unsent > /c/h'}
  last:
    needs: [add, peek]
    runs-on: {with: {image: ${BUSYBOX}, ${on('n3')}, volumes: [{source: cache, target: /cache}]}}
    stages:
      - {name: l, type: sh, run: 'cd /cache && echo $(find . -type f | sort)'}
`,
      { backend: backend(), maxParallel: 2 }
    )
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['write', 'success', undefined],
      ['add', 'success', undefined],
      ['peek', 'success', undefined],
      ['last', 'success', undefined]
    ])
    expect(lines).toEqual(expect.arrayContaining(['[add] one', '[peek] one', '[last] ./d/f ./g']))
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 90_000)

  it("refuses a named volume with driver options, and one a job's own command mounts, saying why", async () => {
    const nfs = await runYaml(
      `
volumes:
  shared: {driver: local, driver_opts: {type: nfs, o: 'addr=10.0.0.1', device: ':/export'}}
jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: shared, target: /s}]}}
    stages: [{name: s, type: sh, run: 'true'}]
`,
      { backend: backend() }
    ).catch((error: unknown) => error as Error)
    expect(nfs).toBeInstanceOf(Error)
    expect((nfs as Error).message).toBe(
      "volume 'shared' has a driver or driver_opts, which the swarm would apply on each node, leaving a volume on each that the manager cannot remove: create it on every node and make it 'external: true', or leave driver and driver_opts out (the run's workspace service keeps it)"
    )
    const { result, runId } = await runYaml(
      `
volumes:
  cache:
jobs:
  own:
    runs-on: {with: {image: ${BUSYBOX}, command: ['true'], volumes: [{source: cache, target: /c}]}}
`,
      { backend: backend() }
    )
    expect(result.jobs.map((j) => [j.status, j.error])).toEqual([
      [
        'failure',
        "volume 'cache' (mounted at /c) reaches a swarm task through the run's workspace service, which only a job's stages use: give the job stages, make the volume 'external: true', or run with --backend docker"
      ]
    ])
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 60_000)

  it('runs every task where runs-on.with.placement says', async () => {
    const { result } = await runYaml(
      `
jobs:
  pinned:
    strategy: {matrix: {n: [1, 2, 3, 4]}}
    runs-on:
      type: container
      with: {image: ${BUSYBOX}, placement: {constraints: ['node.hostname == {{ params.node }}']}}
    outputs: {node: "{{ stages.where.outputs.node }}"}
    stages:
      - name: where
        type: sh
        run: |
          echo "node=$(${NODE_OF_TASK})" >> "$CTR_OUTPUT"
params:
  node: {type: str, default: n2}
`,
      { backend: backend(), maxParallel: 4 }
    )
    expect(result.jobs.map((j) => j.outputs.node)).toEqual(['n2', 'n2', 'n2', 'n2'])
  }, 60_000)

  it('fails a job with its exit code and skips what needs it, as locally', async () => {
    const { result, runId, lines } = await runYaml(
      `
jobs:
  ok:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages: [{name: fine, type: sh, run: 'echo fine'}]
  broken:
    needs: [ok]
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - {name: says, type: sh, run: 'echo to stderr >&2'}
      - {name: fails, type: sh, run: 'exit 3'}
      - {name: never, type: sh, run: 'echo never'}
  after:
    needs: [broken]
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages: [{name: x, type: sh, run: 'true'}]
`,
      { backend: backend() }
    )
    expect(result.jobs.map((j) => [j.id, j.status, j.exit_code])).toEqual([
      ['ok', 'success', 0],
      ['broken', 'failure', 3],
      ['after', 'skipped', null]
    ])
    const broken = result.jobs[1]
    expect(broken.error).toBe("stage 'fails' failed: exit code 3")
    expect(broken.stages.map((s) => [s.name, s.status, s.exit_code])).toEqual([
      ['says', 'success', 0],
      ['fails', 'failure', 3],
      ['never', 'skipped', null]
    ])
    // The frame around each task's output is stripped: the user sees their lines only.
    expect(lines.filter((l) => l.startsWith('[broken]') && !/stage|job/.test(l))).toEqual([
      '[broken] to stderr'
    ])
    expect(lines.some((l) => l.includes('::ctr-task-'))).toBe(false)
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 60_000)

  // Its first task's send to the workspace service failed now and then in the full file
  // (a first job never waits for the service, and its node may not know the service's
  // address yet when the job ends): WORKSPACE_CLIENT's st_send now retries it.
  it('runs a stage with an if:, a timeout or stages.* as a task of its own that sees the workspace', async () => {
    const { result, runId } = await runYaml(
      `
jobs:
  turns:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - name: writes
        type: sh
        run: |
          echo one > "$CTR_WORKSPACE/turn.txt"; echo lost > /tmp/outside
          echo "n=1" >> "$CTR_OUTPUT"
      - name: reads
        type: sh
        run: |
          echo "seen=$(cat "$CTR_WORKSPACE/turn.txt")-{{ stages.writes.outputs.n }}-$(cat /tmp/outside 2>/dev/null || echo gone)" >> "$CTR_OUTPUT"
          echo two >> "$CTR_WORKSPACE/turn.txt"
      - {name: hangs, type: sh, run: 'sleep 60', timeout: 2s}
      - name: after
        type: sh
        if: "always()"
        run: 'echo "n=$(wc -l < "$CTR_WORKSPACE/turn.txt")" >> "$CTR_OUTPUT"'
`,
      { backend: backend() }
    )
    const [job] = result.jobs
    expect([job.status, job.error]).toEqual(['failure', "stage 'hangs' failed: timed out after 2s"])
    expect(job.stages.map((s) => [s.name, s.status, s.exit_code])).toEqual([
      ['writes', 'success', 0],
      ['reads', 'success', 0],
      ['hangs', 'failure', null],
      ['after', 'success', 0]
    ])
    // The later tasks fetched what the earlier ones sent; /tmp was the first task's own.
    expect(job.stages.map((s) => s.outputs)).toEqual([
      { n: '1' },
      { seen: 'one-1-gone' },
      {},
      { n: '2' }
    ])
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 90_000)

  it('runs stages that hold stages, each inner stage a task of its own, with their outputs', async () => {
    const { result, runId } = await runYaml(
      `type: Workflow
name: nested
jobs:
  loops:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - id: each
        foreach: [a, b]
        concurrent: 2
        stages:
          - {id: w, bash: 'echo "\${{ item }}" > "$CTR_WORKSPACE/item-\${{ item }}.txt"; echo "n=\${{ loop }}" >> "$CTR_OUTPUT"'}
      - id: pick
        case: '\${{ stages.each.outputs.foreach.b.stages.w.outputs.n }}'
        match:
          - case: 1
            stages: [{id: c, bash: 'echo "seen=$(cat "$CTR_WORKSPACE"/item-*.txt | tr -d "\\n")" >> "$CTR_OUTPUT"'}]
    outputs:
      seen: '\${{ stages.pick.outputs.stages.c.outputs.seen }}'
`,
      { backend: backend() }
    )
    expect(result.jobs.map((j) => [j.status, j.error, j.outputs])).toEqual([
      ['success', undefined, { seen: 'ab' }]
    ])
    expect(result.jobs[0].stages[0].nested?.map((r) => [r.key, r.status])).toEqual([
      ['a', 'success'],
      ['b', 'success']
    ])
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 90_000)

  it("runs a job's services as services on its network: ready by health check, failing with their logs", async () => {
    const { result, runId, lines } = await runYaml(
      `
jobs:
  ok:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    services:
      web:
        image: ${BUSYBOX}
        command: [httpd, -f, -p, "8080", -h, /etc]
        healthcheck: {test: [wget, -q, -O, /dev/null, "http://127.0.0.1:8080/passwd"], interval: 200ms, retries: 20}
    stages: [{name: fetch, type: sh, run: 'wget -q -O - http://web:8080/passwd | head -1'}]
  unhealthy:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    services:
      db:
        image: ${BUSYBOX}
        command: [sh, -c, "echo starting db; sleep 60"]
        healthcheck: {test: "exit 1", interval: 100ms, retries: 2}
    stages: [{name: never, type: sh, run: 'echo ran'}]
  exits:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    services:
      # Its check comes too late to pass: the service is seen ending, never ready. (Without a
      # check it is ready once seen running, which a task that ends at once may or may not be.)
      cache:
        image: ${BUSYBOX}
        command: [sh, -c, "echo bad flag; exit 2"]
        healthcheck: {test: "true", interval: 30s, start_period: 30s}
    stages: [{name: never, type: sh, run: 'true'}]
`,
      { backend: backend() }
    )
    expect(result.jobs.map((j) => [j.id, j.status])).toEqual([
      ['ok', 'success'],
      ['unhealthy', 'failure'],
      ['exits', 'failure']
    ])
    expect(lines).toContain('[ok] service web ready')
    expect(lines).toContain('[ok] root:x:0:0:root:/root:/bin/sh')
    expect(result.jobs[1].error).toBe(
      "service 'db' failed its health check; its last log lines:\nstarting db"
    )
    expect(result.jobs[1].stages).toEqual([])
    expect(result.jobs[2].error).toBe(
      "service 'cache' exited with code 2; its last log lines:\nbad flag"
    )
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 120_000)

  it('copies paths and globs out to the artifacts folder, per instance, from the last task of each', async () => {
    const dir = tempDir()
    const artifacts = path.join(dir, 'out')
    const { result, lines, runId } = await runYaml(
      `
jobs:
  build:
    strategy: {matrix: {n: [1, 2]}}
    runs-on: {type: container, with: {image: ${BUSYBOX}, working_dir: /work}}
    artifacts: [/out/**/*.csv, report.txt, /nothing/here]
    stages:
      - name: make
        type: sh
        run: |
          mkdir -p /out/sub
          echo "a{{ matrix.n }}" > /out/a.csv; echo b > /out/sub/b.csv; echo c > /out/c.txt
      - name: report
        type: sh
        if: "always()"
        run: 'echo "report {{ matrix.n }}" > report.txt; mkdir -p /out; echo "a{{ matrix.n }}" > /out/a.csv'
`,
      { dir, artifactsDir: artifacts, backend: backend() }
    )
    expect(result.status).toBe('success')
    expect(readdirSync(artifacts).sort()).toEqual(['build-1', 'build-2'])
    // The second stage ran in a task of its own: its container had none of the first's /out.
    expect(filesUnder(path.join(artifacts, 'build-2'))).toEqual(['a.csv', 'report.txt'])
    expect(readFileSync(path.join(artifacts, 'build-2', 'a.csv'), 'utf8')).toBe('a2\n')
    expect(readFileSync(path.join(artifacts, 'build-1', 'report.txt'), 'utf8')).toBe('report 1\n')
    expect(result.jobs[0].artifacts).toEqual({ dir: path.join(artifacts, 'build-1'), files: 2 })
    expect(lines).toContain("[build (1)] warning: artifact '/nothing/here' matched no files")
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 90_000)

  it('fails a job whose image no node has, saying so, without waiting for the schedule timeout', async () => {
    const started = Date.now()
    const { result, runId } = await runYaml(
      `
jobs:
  missing:
    runs-on: {type: container, with: {image: 'ctr-fixtures/nowhere:1'}}
    stages: [{name: x, type: sh, run: 'true'}]
`,
      { backend: backend() }
    )
    expect(result.jobs[0].status).toBe('failure')
    expect(result.jobs[0].error).toBe(
      "stage 'x' failed: the swarm did not run it (task rejected): No such image: ctr-fixtures/nowhere:1"
    )
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 60_000)

  it('fails a job no node can take after the schedule timeout, with the swarm’s reason', async () => {
    const started = Date.now()
    const { result, runId } = await runYaml(
      `
jobs:
  nowhere:
    runs-on: {type: container, with: {image: ${BUSYBOX}, platform: linux/s390x}}
    stages: [{name: x, type: sh, run: 'true'}]
`,
      { backend: new SwarmBackend(manager, { scheduleTimeoutMs: 3000, helperImage: BUSYBOX }) }
    )
    expect(result.jobs[0].status).toBe('failure')
    expect(result.jobs[0].error).toBe(
      "stage 'x' failed: no node of the swarm started it within 3 s (task pending: no suitable node (unsupported platform on 3 nodes))"
    )
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 60_000)

  it('reports a stage that allocates 100 MB under memory: 32m as killed for memory', async () => {
    const { result } = await runYaml(
      `
jobs:
  hungry:
    runs-on: {type: container, with: {image: ${BUSYBOX}, resources: {memory: 32m}}}
    stages: [{name: allocate, type: sh, run: 'dd if=/dev/zero of=/dev/null bs=100M count=1'}]
`,
      { backend: backend() }
    )
    const [job] = result.jobs
    expect([job.status, job.exit_code, job.oom_killed]).toEqual(['failure', 137, true])
    expect(job.error).toBe(
      "stage 'allocate' failed: killed for memory: it hit its memory limit of 32m (resources.memory); exit code 137"
    )
  }, 60_000)

  it("runs a job's own command as its task, with its logs and exit code", async () => {
    const { result, lines } = await runYaml(
      `
jobs:
  own:
    runs-on: {type: container, with: {image: ${BUSYBOX}, command: [sh, -c, 'echo mine; exit 2']}}
`,
      { backend: backend() }
    )
    expect([result.jobs[0].status, result.jobs[0].exit_code, result.jobs[0].error]).toEqual([
      'failure',
      2,
      'exit code 2'
    ])
    expect(lines).toContain('[own] mine')
  }, 60_000)

  it('gives each task the limits of the file, as the task spec shows them', async () => {
    // Read while the job runs; the poll ends with the run, seen or not.
    let done = false
    const seen = (async () => {
      while (!done) {
        const [service] = await manager.listServices({
          filters: JSON.stringify({ label: ['ctr-pipeline.job=limited'] })
        })
        if (service) return service.Spec?.TaskTemplate?.Resources
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    const { result } = await runYaml(
      `
jobs:
  limited:
    runs-on:
      type: container
      with:
        image: ${BUSYBOX}
        resources: {memory: 96m, cpu: '0.5', pids_limit: 50, memory_reservation: 32m, cpu_reservation: '0.25'}
    stages: [{name: x, type: sh, run: 'sleep 1'}]
`,
      { backend: backend() }
    ).finally(() => (done = true))
    expect(result.status).toBe('success')
    expect(await seen).toEqual({
      Limits: { MemoryBytes: 100663296, NanoCPUs: 500000000, Pids: 50 },
      Reservations: { MemoryBytes: 33554432, NanoCPUs: 250000000 }
    })
  }, 60_000)

  it('fails a job that reserves more CPUs than any node has after the schedule timeout, saying so', async () => {
    const { result, runId } = await runYaml(
      `
jobs:
  greedy:
    runs-on: {type: container, with: {image: ${BUSYBOX}, resources: {cpu_reservation: '64'}}}
    stages: [{name: x, type: sh, run: 'true'}]
`,
      { backend: new SwarmBackend(manager, { scheduleTimeoutMs: 3000, helperImage: BUSYBOX }) }
    )
    expect(result.jobs[0].error).toBe(
      "stage 'x' failed: no node of the swarm started it within 3 s (task pending: no suitable node (insufficient resources on 3 nodes))"
    )
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 60_000)

  it('builds an image on the manager, pushes it to --registry and runs it by digest on nodes that never had it', async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'app'))
    writeFileSync(
      path.join(dir, 'app', 'Dockerfile'),
      `FROM ${BUSYBOX}\nARG WORD\nRUN echo "built $WORD" > /built\n`
    )
    writeFileSync(
      path.join(dir, 'pipeline.yml'),
      `
jobs:
  built:
    strategy: {matrix: {node: [n2, n3]}}
    runs-on:
      type: container
      with:
        build: {context: app, args: {WORD: here}}
        placement: {constraints: ["node.hostname == {{ matrix.node }}"]}
    outputs: {says: "{{ stages.read.outputs.says }}"}
    stages:
      - {name: read, type: sh, run: 'echo "says=$(cat /built)" >> "$CTR_OUTPUT"'}
`
    )
    const { DOCKER_HOST, registry } = labEnv()
    // docker login's credentials for the registry (the lab's takes any): they go with the
    // push and the service requests, and never into a service's spec.
    const password = `pw-${Date.now()}`
    mkdirSync(path.join(dir, 'docker'))
    const auth = Buffer.from(`ci:${password}`).toString('base64')
    writeFileSync(
      path.join(dir, 'docker', 'config.json'),
      JSON.stringify({ auths: { [registry]: { auth } } })
    )
    const specs: string[] = []
    const seen: string[] = []
    let done = false
    // The task spec names the image by its digest in the registry, not by the run's tag.
    const watching = (async () => {
      while (!done) {
        for (const service of await manager.listServices({
          filters: JSON.stringify({ label: ['ctr-pipeline.managed=true'] })
        })) {
          specs.push(JSON.stringify(service))
          seen.push(
            (service.Spec?.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined)
              ?.ContainerSpec?.Image ?? ''
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    const { code, stdout, stderr } = await runNode(
      CLI,
      ['run', '--backend', 'swarm', '--swarm-host', DOCKER_HOST, '--registry', registry].concat([
        '--result',
        path.join(dir, 'result.json'),
        path.join(dir, 'pipeline.yml')
      ]),
      // --swarm-host wins over DOCKER_HOST.
      {
        DOCKER_HOST: 'unix:///nowhere.sock',
        CTR_SWARM_HELPER_IMAGE: BUSYBOX,
        DOCKER_CONFIG: path.join(dir, 'docker')
      }
    ).finally(() => (done = true))
    await watching
    expect([code, stderr]).toEqual([0, ''])
    const result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8')) as RunResult
    expect(result.jobs.map((j) => j.outputs.says)).toEqual(['built here', 'built here'])
    const runId = result.run_id
    const pushed = new RegExp(
      `^${registry.replaceAll('.', '\\.')}/ctr-pipeline-build/built:${runId}-[0-9a-f]+@sha256:[0-9a-f]{64}$`
    )
    const jobImages = [...new Set(seen.filter((image) => !image.startsWith(BUSYBOX)))]
    expect(jobImages).toHaveLength(1)
    expect(jobImages[0]).toMatch(pushed)
    expect(stdout).toMatch(
      new RegExp(`^push ${registry}/ctr-pipeline-build/built:${runId}-[0-9a-f]+ \\(as ci\\)$`, 'm')
    )
    expect(specs.length).toBeGreaterThan(0)
    expect(specs.filter((spec) => spec.includes(password) || spec.includes(auth))).toEqual([])
    // The run's tag and the registry-named one are gone from the manager; the layers stay.
    const tags = (await manager.listImages()).flatMap((i) => i.RepoTags ?? [])
    expect(tags.filter((t) => t.includes(runId))).toEqual([])
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 120_000)

  it('leaves no service, container, network or volume on any node after SIGTERM mid-run', async () => {
    const file = path.join(tempDir(), 'pipeline.yml')
    writeFileSync(
      file,
      `
jobs:
  long:
    strategy: {matrix: {n: [1, 2, 3]}}
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages: [{name: wait, type: sh, run: 'echo waiting; sleep 60'}]
`
    )
    const cli = new Spawned(CLI, ['run', '--backend', 'swarm', file], {
      DOCKER_HOST: labEnv().DOCKER_HOST,
      CTR_SWARM_HELPER_IMAGE: BUSYBOX
    })
    await cli.waitFor(/\] waiting/, 30_000)
    const runId = /^run (\S+):/m.exec(cli.stdout)![1]
    cli.child.kill('SIGTERM')
    const { code } = await cli.exited
    expect(code).toBe(130)
    expect(await labLeftovers(runId)).toEqual(NOTHING_LEFT_ON_LAB)
  }, 90_000)

  // Last: the lab has two nodes after it.
  it('fails a job whose node goes down within 30 s, and the run ends', async () => {
    const running = runYaml(
      `
jobs:
  stranded:
    strategy: {matrix: {n: [1, 2, 3, 4, 5, 6]}}
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - name: wait
        type: sh
        run: |
          echo "on $(${NODE_OF_TASK})"; sleep 120
`,
      { backend: backend(), maxParallel: 6 }
    )
    // Stops n3 once one of its tasks runs.
    let stoppedAt = 0
    for (let i = 0; i < 300 && !stoppedAt; i++) {
      const tasks = (await manager.listTasks({
        filters: JSON.stringify({ 'desired-state': ['running'] })
      })) as Array<{ NodeID: string; Status: { State: string } }>
      const nodes = await manager.listNodes()
      const n3 = nodes.find((n) => n.Description?.Hostname === 'n3')?.ID
      if (tasks.some((t) => t.NodeID === n3 && t.Status.State === 'running')) {
        lab('stop', 'n3')
        stoppedAt = Date.now()
      } else await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(stoppedAt).toBeGreaterThan(0)
    const { result, lines, runId } = await running
    const stranded = result.jobs.find((j) =>
      /its node n3 went down while it ran/.test(j.error ?? '')
    )
    expect(stranded?.status).toBe('failure')
    expect(stranded?.error).toBe("stage 'wait' failed: its node n3 went down while it ran")
    expect(Date.now() - stoppedAt).toBeLessThan(30_000)
    expect(lines.some((l) => l.includes('on n3'))).toBe(true)
    expect(await labLeftovers(runId, 15_000, ['n3'])).toEqual(NOTHING_LEFT_ON_LAB)
  }, 120_000)

  it('exits 3 with one line when the engine is not a swarm manager', async () => {
    // The host's own engine is in no swarm.
    const run = await runNode(CLI, ['run', '--backend', 'swarm', 'examples/quickstart.yml'], {
      DOCKER_HOST: 'unix:///var/run/docker.sock'
    })
    expect(run.code).toBe(3)
    expect(run.stderr.trim().split('\n')).toEqual([
      'the Docker engine at unix:///var/run/docker.sock is not a swarm manager: point DOCKER_HOST at a manager of the swarm, or make this engine one with: docker swarm init'
    ])
  }, 30_000)
})
