import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BUSYBOX, leftovers, NOTHING_LEFT, tempDir } from '../helpers/engine.js'
import { CLI, Spawned } from '../helpers/processes.js'

/**
 * A diamond of jobs that runs for about four seconds with everything a run creates: named
 * volumes, a matrix, a service (with a health check) and an image built for the run (its
 * NONCE is the run id, so every run really builds and tags one).
 */
const DIAMOND = `volumes:
  cache:
jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: cache, target: /cache}]}}
    stages: [{name: s, type: sh, run: "sleep 1"}]
  built:
    runs-on: {with: {build: {context: app, args: {NONCE: "{{ run_id }}"}}}}
    stages: [{name: s, type: sh, run: "cat /nonce"}]
  b:
    needs: [a]
    runs-on: {with: {image: ${BUSYBOX}}}
    services:
      web:
        image: ${BUSYBOX}
        command: [sh, -c, "sleep 60"]
        healthcheck: {test: "true", interval: 200ms, retries: 20}
    stages: [{name: s, type: sh, run: "sleep 1"}]
  c:
    needs: [a]
    strategy: {matrix: {n: [1, 2]}}
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: s, type: sh, run: "sleep 1"}]
  d:
    needs: [b, c, built]
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: s, type: sh, run: "sleep 1"}]
`

const DOCKERFILE = `FROM ${BUSYBOX}\nARG NONCE\nRUN echo "$NONCE" > /nonce && sleep 1\n`

const RUNS = 20
/** Runs interrupted side by side: the engine is shared, the run ids keep them apart. */
const AT_ONCE = 4
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
/** The GitHub runner kills the process this long after its first signal. */
const RUNNER_GRACE_MS = 7500

interface Interrupted {
  signal: NodeJS.Signals
  delayMs: number
  runId: string
  code: number | null
  exitMs: number
  left: typeof NOTHING_LEFT
}

async function interruptOnce(file: string): Promise<Interrupted> {
  const signal = SIGNALS[Math.floor(Math.random() * SIGNALS.length)]
  const delayMs = Math.floor(Math.random() * 4000)
  const run = new Spawned(CLI, ['run', file, '--max-parallel', '2'])
  const [, runId] = await run.waitFor(/^run (\S+):/m)
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  const sent = Date.now()
  run.child.kill(signal)
  const { code } = await run.exited
  const exitMs = Date.now() - sent
  return { signal, delayMs, runId, code, exitMs, left: await leftovers(runId) }
}

describe('interrupting runs at random moments (chaos)', () => {
  it(`${RUNS} runs, each sent SIGINT, SIGTERM or SIGHUP: exit 130 in time, nothing left, images included`, async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'app'))
    writeFileSync(path.join(dir, 'app', 'Dockerfile'), DOCKERFILE)
    const file = path.join(dir, 'pipeline.yml')
    writeFileSync(file, DIAMOND)
    const outcomes: Interrupted[] = []
    for (let i = 0; i < RUNS; i += AT_ONCE) {
      outcomes.push(
        ...(await Promise.all(Array.from({ length: AT_ONCE }, () => interruptOnce(file))))
      )
    }
    // One line per run, so a failure shows which signal at which moment broke what.
    const report = outcomes.map(
      (o) =>
        `${o.signal} after ${o.delayMs} ms: exit ${o.code} in ${o.exitMs} ms, left ${JSON.stringify(o.left)}`
    )
    expect(
      report.filter((_line, i) => {
        const o = outcomes[i]
        return (
          o.code !== 130 ||
          o.exitMs > RUNNER_GRACE_MS ||
          JSON.stringify(o.left) !== JSON.stringify(NOTHING_LEFT)
        )
      })
    ).toEqual([])
    if (process.env.CHAOS_REPORT) process.stdout.write(`${report.join('\n')}\n`)
    expect(outcomes).toHaveLength(RUNS)
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  }, 300_000)
})
