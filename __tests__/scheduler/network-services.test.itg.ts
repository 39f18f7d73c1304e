import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import { freePort } from '../helpers/net.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** Lines a job printed itself, without the prefix and the job and stage lines. */
function printed(lines: string[], job: string): string[] {
  const prefix = `[${job}] `
  return lines
    .filter((l) => l.startsWith(prefix) && !/^\[[^\]]+\] (job|stage|service) /.test(l))
    .map((l) => l.slice(prefix.length))
}

// busybox httpd serving /etc: GET /passwd answers with /etc/passwd.
const HTTPD = '[httpd, -f, -p, "8080", -h, /etc]'
const FETCH = (host: string) => `wget -q -O - http://${host}:8080/passwd | head -1`
/** Retries a fetch for up to 5 s: the other side may still be starting. */
const FETCH_RETRYING = (host: string) =>
  `for i in $(seq 50); do wget -q -O /dev/null http://${host}:8080/passwd 2>/dev/null && break; sleep 0.1; done; ${FETCH(host)}`

describe('service containers', () => {
  it('starts an httpd service, waits for its health check, and the job reaches it by name', async () => {
    const { result, lines, runId } = await runYaml(`jobs:
  test:
    runs-on: {with: {image: ${BUSYBOX}}}
    services:
      web:
        image: ${BUSYBOX}
        command: ${HTTPD}
        healthcheck: {test: [wget, -q, -O, /dev/null, "http://127.0.0.1:8080/passwd"], interval: 200ms, retries: 20}
    stages: [{name: fetch, type: sh, run: '${FETCH('web')}'}]
`)
    expect(result.jobs[0].error).toBeUndefined()
    expect(printed(lines, 'test')).toEqual(['root:x:0:0:root:/root:/bin/sh'])
    expect(lines).toContain('[test] service web ready')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('a service mounts host folders (short and long form) and runs as its user', async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'site'))
    writeFileSync(path.join(dir, 'site', 'hello.txt'), 'served from the host\n')
    const { result, lines, runId } = await runYaml(
      `jobs:
  test:
    runs-on: {with: {image: ${BUSYBOX}}}
    services:
      web:
        image: ${BUSYBOX}
        user: "65534"
        volumes: ["./site:/srv:ro", {source: ./site, target: /also, mode: ro}]
        command: [httpd, -f, -p, "8080", -h, /srv]
    stages: [{name: fetch, type: sh, run: '${FETCH_RETRYING('web').replace(/passwd/g, 'hello.txt')}'}]
`,
      { dir, keep: true }
    )
    expect(result.jobs[0].error).toBeUndefined()
    expect(printed(lines, 'test')).toEqual(['served from the host'])
    const filters = JSON.stringify({
      label: [`ctr-pipeline.run-id=${runId}`, 'ctr-pipeline.service=web']
    })
    const [service] = await docker.listContainers({ all: true, filters })
    const info = await docker.getContainer(service.Id).inspect()
    await new DockerBackend(docker).sweep(runId)
    expect(info.Config.User).toBe('65534')
    const site = path.join(dir, 'site')
    expect(info.HostConfig.Mounts).toEqual([
      { Type: 'bind', Source: site, Target: '/srv', ReadOnly: true },
      { Type: 'bind', Source: site, Target: '/also', ReadOnly: true }
    ])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('a failing health check fails the job with the service last log lines; no stage runs', async () => {
    const { result, runId } = await runYaml(`jobs:
  test:
    runs-on: {with: {image: ${BUSYBOX}}}
    services:
      db:
        image: ${BUSYBOX}
        command: [sh, -c, "echo starting db; echo 'config file missing' >&2; sleep 60"]
        healthcheck: {test: "exit 1", interval: 100ms, retries: 2}
    stages: [{name: never, type: sh, run: 'echo ran'}]
`)
    const [job] = result.jobs
    expect(job.status).toBe('failure')
    expect(job.error).toMatch(/^service 'db' failed its health check; its last log lines:\n/)
    // stdout and stderr are two streams: their order in the log is not kept.
    expect(job.error).toContain('starting db')
    expect(job.error).toContain('config file missing')
    expect(job.stages).toEqual([])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('a service that exits before it is ready fails the job with its exit code; no stage runs', async () => {
    // The health check keeps it 'starting' until it exits: the wait sees the exit, always.
    const { result } = await runYaml(`jobs:
  test:
    runs-on: {with: {image: ${BUSYBOX}}}
    services:
      cache:
        image: ${BUSYBOX}
        command: [sh, -c, "echo bad flag; sleep 0.3; exit 2"]
        healthcheck: {test: "exit 1", interval: 5s, retries: 3}
    stages: [{name: never, type: sh, run: 'true'}]
`)
    expect(result.jobs[0].error).toBe(
      "service 'cache' exited with code 2; its last log lines:\nbad flag"
    )
    expect(result.jobs[0].stages).toEqual([])
  })

  it('a service that dies while the stages run fails the job; one that ends with 0 does not', async () => {
    const { result, runId } = await runYaml(`jobs:
  crash:
    runs-on: {with: {image: ${BUSYBOX}}}
    services:
      cache: {image: ${BUSYBOX}, command: [sh, -c, "sleep 0.5; echo out of memory; exit 3"]}
    stages: [{name: work, type: sh, run: 'sleep 2'}]
  oneshot:
    runs-on: {with: {image: ${BUSYBOX}}}
    services:
      seed: {image: ${BUSYBOX}, command: [sh, -c, "sleep 0.5; exit 0"]}
    stages: [{name: work, type: sh, run: 'sleep 2'}]
`)
    const [crash, oneshot] = result.jobs
    expect(crash.status).toBe('failure')
    expect(crash.error).toBe(
      "service 'cache' exited with code 3 while the job ran; its last log lines:\nout of memory"
    )
    expect(crash.stages.map((s) => s.status)).toEqual(['success'])
    expect(oneshot.status).toBe('success')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})

describe('networks', () => {
  it('jobs running side by side reach each other by name on the run network', async () => {
    const { result, lines } = await runYaml(`jobs:
  server:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: serve, type: sh, run: 'httpd -p 8080 -h /etc && sleep 6'}]
  client:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: fetch, type: sh, run: '${FETCH_RETRYING('server')}'}]
`)
    expect(result.jobs.map((j) => j.status)).toEqual(['success', 'success'])
    expect(printed(lines, 'client')).toEqual(['root:x:0:0:root:/root:/bin/sh'])
  })

  it('network_mode: none keeps a job off every network; host and bridge are what Docker makes them', async () => {
    const { result, lines } = await runYaml(`jobs:
  none:
    runs-on: {with: {image: ${BUSYBOX}, network: {network_mode: none}}}
    stages: [{name: nics, type: sh, run: 'ls /sys/class/net'}]
  host:
    runs-on: {with: {image: ${BUSYBOX}, network: {network_mode: host}}}
    stages: [{name: nics, type: sh, run: 'ls /sys/class/net 2>/dev/null | grep -x docker0'}]
  bridge:
    runs-on: {with: {image: ${BUSYBOX}, network: {network_mode: bridge}}}
    stages: [{name: peer, type: sh, run: 'nslookup none 2>&1 | grep -q "can.t find" && echo no peers by name'}]
`)
    expect(result.jobs.map((j) => j.status)).toEqual(['success', 'success', 'success'])
    expect(printed(lines, 'none')).toEqual(['lo'])
    expect(printed(lines, 'host')).toEqual(['docker0'])
    expect(printed(lines, 'bridge')).toEqual(['no peers by name'])
  })

  it("network_mode: container:NAME shares that container's network namespace", async () => {
    // A server started outside the run, as a user's long-running service would be.
    const name = `ctr-test-netns-${Date.now()}`
    const server = await docker.createContainer({
      name,
      Image: BUSYBOX,
      Cmd: ['httpd', '-f', '-p', '8080', '-h', '/etc'],
      HostConfig: { NetworkMode: 'none' }
    })
    try {
      await server.start()
      const { result, lines } = await runYaml(`jobs:
  sidecar:
    runs-on: {with: {image: ${BUSYBOX}, network: {network_mode: "container:${name}"}}}
    stages: [{name: fetch, type: sh, run: '${FETCH_RETRYING('127.0.0.1')}'}]
`)
      expect(result.jobs[0].status).toBe('success')
      expect(printed(lines, 'sidecar')).toEqual(['root:x:0:0:root:/root:/bin/sh'])
    } finally {
      await server.remove({ force: true })
    }
  })

  it('network.ports publishes a container port on the host', async () => {
    const port = await freePort()
    const controller = new AbortController()
    const run = runYaml(
      `jobs:
  web:
    runs-on: {with: {image: ${BUSYBOX}, network: {ports: {"8080": "127.0.0.1:${port}"}}}}
    stages: [{name: serve, type: sh, run: 'httpd -f -p 8080 -h /etc'}]
`,
      { signal: controller.signal }
    )
    let body = ''
    for (let i = 0; i < 100 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${port}/passwd`).then(
        (r) => r.text(),
        () => ''
      )
      if (!body) await sleep(100)
    }
    controller.abort()
    await run
    expect(body.split('\n')[0]).toBe('root:x:0:0:root:/root:/bin/sh')
  })

  it('user runs the stages as that user', async () => {
    const { lines } = await runYaml(`jobs:
  who:
    runs-on: {with: {image: ${BUSYBOX}, user: "65534:65534"}}
    stages: [{name: id, type: sh, run: 'id -u; id -g; touch $CTR_JOB_DIR/f && echo can write'}]
`)
    expect(printed(lines, 'who')).toEqual(['65534', '65534', 'can write'])
  })
})
