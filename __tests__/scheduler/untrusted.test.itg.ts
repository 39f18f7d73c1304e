import { mkdirSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** A job that would print the host's secrets if it ran. */
const job = (withText: string, extra = '') => `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, ${withText}}}
    stages: [{name: s, type: sh, run: 'echo RAN; ls /s'}]
${extra}`

/** Runs untrusted in a fresh workspace; returns the job's error and whether it ran. */
async function untrusted(
  yaml: string | ((ws: string) => string),
  prepare?: (ws: string) => void,
  env?: Record<string, string>
) {
  const ws = tempDir('ctr-ws-')
  prepare?.(ws)
  const text = typeof yaml === 'string' ? yaml : yaml(ws)
  const { result, lines, runId } = await runYaml(text, { dir: ws, untrusted: true, env })
  expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  return {
    ws,
    status: result.status,
    error: result.jobs[0].error,
    ran: lines.some((l) => l.includes('RAN'))
  }
}

const REFUSED = 'refused in untrusted mode: '

describe('untrusted mode holds the final, rendered plan to its allow-list (real engine)', () => {
  it.each([
    ['the Docker socket', '/var/run/docker.sock'],
    ['the root', '/'],
    ['/etc', '/etc'],
    ['two folders up', '../..']
  ])('refuses a committed symlink to %s', async (_what, target) => {
    const outcome = await untrusted(job('volumes: [{source: ./link, target: /s}]'), (ws) =>
      symlinkSync(target, path.join(ws, 'link'))
    )
    const real = realpathSync(path.resolve(outcome.ws, target))
    expect(outcome).toMatchObject({
      status: 'failure',
      ran: false,
      error: `${REFUSED}volumes: ${real} (at /s) is outside the workspace ${outcome.ws}`
    })
  })

  it('refuses a symlink that a job of an earlier run left in a read-write mount', async () => {
    const ws = tempDir('ctr-ws-')
    mkdirSync(path.join(ws, 'out'), { mode: 0o777 })
    const plant = await runYaml(
      `jobs:
  plant:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: ./out, target: /out, mode: rw}]}}
    stages: [{name: s, type: sh, run: 'ln -s /etc /out/link'}]
`,
      { dir: ws, untrusted: true }
    )
    expect(plant.result.status).toBe('success')
    expect(readlinkSync(path.join(ws, 'out/link'))).toBe('/etc')
    const use = await runYaml(job('volumes: [{source: ./out/link, target: /s}]'), {
      dir: ws,
      untrusted: true
    })
    expect(use.result.jobs[0].error).toBe(
      `${REFUSED}volumes: /etc (at /s) is outside the workspace ${ws}`
    )
    expect(use.lines.some((l) => l.includes('RAN'))).toBe(false)
    expect(await leftovers(use.runId)).toEqual(NOTHING_LEFT)
  })

  it.each([
    ['${HOME}', os.homedir()],
    [
      '${HOME}/../var/run/docker.sock',
      realpathSync(path.resolve(os.homedir(), '../var/run/docker.sock'))
    ]
  ])('refuses a mount source that an allowed ${VAR} makes %s', async (source, real) => {
    const outcome = await untrusted(
      job(`volumes: [{source: "${source}", target: /s}]`),
      undefined,
      { HOME: os.homedir() }
    )
    expect(outcome).toMatchObject({
      ran: false,
      error: `${REFUSED}volumes: ${real} (at /s) is outside the workspace ${outcome.ws}`
    })
  })

  it.each([
    ['an expression', `"{{ 'host' }}"`, {}, 'host'],
    ['a variable', '"${NETMODE}"', { NETMODE: 'host' }, 'host'],
    ['the default bridge', 'bridge', {}, 'bridge']
  ])('refuses a network mode that %s makes host', async (_what, mode, env, rendered) => {
    const outcome = await untrusted(job(`network: {network_mode: ${mode}}`), undefined, env)
    expect(outcome).toMatchObject({
      ran: false,
      error: `${REFUSED}network.network_mode: '${rendered}' is not the run's own network (only the run's network or none)`
    })
  })

  it("refuses joining another container's namespaces", async () => {
    const other = await docker.createContainer({ Image: BUSYBOX, Cmd: ['sleep', '30'] })
    try {
      await other.start()
      const outcome = await untrusted(job(`network: {network_mode: "container:${other.id}"}`))
      expect(outcome.error).toBe(
        `${REFUSED}network.network_mode: 'container:${other.id}' is not the run's own network (only the run's network or none)`
      )
    } finally {
      await other.remove({ force: true })
    }
  })

  it.each([
    ['a build context outside the workspace', '{context: .., dockerfile: WS/Dockerfile}', ''],
    [
      'a build that would tag a name others use (item 3)',
      '{context: .}',
      'image: ctr-test/untrusted-tag:1, '
    ]
  ])('refuses %s, and builds and tags nothing (item 7)', async (_what, build, image) => {
    const outcome = await untrusted(
      (ws) => `jobs:
  a:
    runs-on: {with: {${image}build: ${build.replace('WS', path.basename(ws))}}}
    stages: [{name: s, type: sh, run: 'echo RAN'}]
`,
      (ws) => writeFileSync(path.join(ws, 'Dockerfile'), `FROM ${BUSYBOX}\nCOPY . /host\n`)
    )
    expect(outcome).toMatchObject({
      ran: false,
      error: `${REFUSED}build: an untrusted pipeline builds no image (a build has no process or memory limit, and its tag stays on the engine): build it in a trusted workflow and name it in image:`
    })
    expect(await docker.listImages({ filters: { reference: ['ctr-test/untrusted-tag'] } })).toEqual(
      []
    )
  })

  it.each([
    [
      'pids_limit: -1',
      'resources: {pids_limit: -1}',
      'resources.pids_limit: -1 is not between 1 and 4096'
    ],
    [
      'pids_limit: 0',
      'resources: {pids_limit: 0}',
      'resources.pids_limit: 0 is not between 1 and 4096'
    ],
    ['gpus', 'resources: {gpus: all}', 'resources.gpus: hands the job host devices'],
    [
      'a port on every address',
      'network: {ports: {"80": "0.0.0.0:18080"}}',
      'network.ports: 80/tcp is published on 0.0.0.0 (only 127.0.0.1)'
    ]
  ])('refuses %s', async (_what, withText, why) => {
    const outcome = await untrusted(job(withText))
    expect(outcome).toMatchObject({ ran: false, error: `${REFUSED}${why}` })
  })

  it('runs what it allows, bounded: a bind in the workspace, ports on loopback, limits set', async () => {
    const yaml = `jobs:
  a:
    runs-on:
      with:
        image: ${BUSYBOX}
        volumes: [{source: ./data, target: /data}]
        network: {ports: {"80": "18081"}}
    stages:
      - name: s
        type: sh
        run: |
          cat /data/x
          grep NoNewPrivs /proc/self/status
          cat /sys/fs/cgroup/pids/pids.max
          echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" >> "$CTR_OUTPUT"
    outputs: {mem: "{{ stages.s.outputs.mem }}"}
`
    const ws = tempDir('ctr-ws-')
    mkdirSync(path.join(ws, 'data'))
    writeFileSync(path.join(ws, 'data/x'), 'hello\n')
    const { result, lines } = await runYaml(yaml, { dir: ws, untrusted: true })
    expect(result.status).toBe('success')
    expect(lines).toEqual(expect.arrayContaining(['[a] hello', '[a] NoNewPrivs:\t1', '[a] 1024']))
    expect(Number(result.jobs[0].outputs.mem)).toBe(Math.floor(os.totalmem() / 2 / 4096) * 4096)
  })
})
