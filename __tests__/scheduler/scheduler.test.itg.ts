import { performance } from 'node:perf_hooks'
import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import {
  BUSYBOX,
  docker,
  intervalsOf,
  leftovers,
  NOTHING_LEFT,
  peakOverlap,
  runYaml,
  type RunInterval
} from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** A job without stages whose container sleeps: its start and finish are the engine's. */
const sleeper = (seconds: number, extra = '') => `
    runs-on: {with: {image: ${BUSYBOX}, entrypoint: [sleep], command: ["${seconds}"]}}${extra}`

const only = (intervals: RunInterval[], job: string) => intervals.filter((i) => i.job === job)

describe('scheduling on the real engine (times from inspect data)', () => {
  it('runs a diamond: b and c side by side once a is done, d after both', async () => {
    const { result, runId } = await runYaml(
      `jobs:
  a:${sleeper(0.5)}
  b:${sleeper(1.5, '\n    needs: [a]')}
  c:${sleeper(1.5, '\n    needs: [a]')}
  d:${sleeper(0.5, '\n    needs: [b, c]')}
`,
      { keep: true, maxParallel: 4 }
    )
    // Read (and remove) the kept containers before any assertion can fail.
    const intervals = await intervalsOf(runId)
    expect(result.status).toBe('success')
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((j) => only(intervals, j)[0])
    expect(b.start).toBeGreaterThanOrEqual(a.end)
    expect(c.start).toBeGreaterThanOrEqual(a.end)
    // b and c overlap: each started before the other finished.
    expect(b.start).toBeLessThan(c.end)
    expect(c.start).toBeLessThan(b.end)
    expect(d.start).toBeGreaterThanOrEqual(Math.max(b.end, c.end))
  })

  it('never runs more than max_parallel instances of a matrix at once', async () => {
    const { result, runId } = await runYaml(
      `jobs:
  m:${sleeper(1)}
    strategy:
      matrix: {n: [1, 2, 3, 4, 5, 6]}
      max_parallel: 2
`,
      { keep: true, maxParallel: 6 }
    )
    const intervals = await intervalsOf(runId)
    expect(result.jobs.map((j) => j.status)).toEqual(Array(6).fill('success'))
    expect(intervals).toHaveLength(6)
    expect(peakOverlap(intervals)).toBe(2)
  })

  it('never runs more than --max-parallel instances in the whole run', async () => {
    const { result, runId } = await runYaml(
      `jobs:
  w:${sleeper(1)}
  x:${sleeper(1)}
  y:${sleeper(1)}
  z:${sleeper(1)}
`,
      { keep: true, maxParallel: 3 }
    )
    const intervals = await intervalsOf(runId)
    expect(result.status).toBe('success')
    expect(intervals).toHaveLength(4)
    expect(peakOverlap(intervals)).toBe(3)
  })

  it("creates the workflow volume's folders, shared and every instance's, in one upload", async () => {
    // The engine's archive upload fails now and then when two containers create one folder
    // at the same moment ("mkdir /ctr/workspace: file exists"): too rare to catch by
    // running, so the calls themselves are recorded.
    const calls: Array<{ dirs: string[]; start: number; end: number }> = []
    class RecordingClient extends DockerBackend {
      override async makeDirectories(id: string, root: string, dirs: string[]) {
        const start = performance.now()
        await super.makeDirectories(id, root, dirs)
        calls.push({ dirs, start, end: performance.now() })
      }
    }
    const { result } = await runYaml(
      `jobs:
  m:
    strategy: {matrix: {n: [1, 2, 3, 4, 5, 6]}}
    runs-on: {with: {image: ${BUSYBOX}, entrypoint: ["true"]}}
`,
      { maxParallel: 6, backend: new RecordingClient(docker) }
    )
    expect(result.status).toBe('success')
    // One upload, not one per instance: each costs the engine tens of milliseconds.
    expect(calls).toHaveLength(1)
    expect(calls[0].dirs).toEqual([
      '/ctr/workspace',
      '/ctr/workspace/jobs',
      '/ctr/state',
      ...[1, 2, 3, 4, 5, 6].map((n) => `/ctr/workspace/jobs/m-${n}`)
    ])
  })

  it('fail_fast cancels running siblings at once, and the jobs downstream are skipped', async () => {
    const started = Date.now()
    const { result, runId } = await runYaml(
      `jobs:
  m:
    strategy:
      matrix: {n: [1, 2, 3]}
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: work, type: sh, run: 'if [ {{ matrix.n }} = 2 ]; then sleep 0.5; exit 3; fi; sleep 30'}
  after:
    needs: [m]
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: never, type: sh, run: "true"}]
`,
      { maxParallel: 3 }
    )
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['m (1)', 'cancelled', "cancelled: instance 'm (2)' failed (fail_fast)"],
      ['m (2)', 'failure', "stage 'work' failed: exit code 3"],
      ['m (3)', 'cancelled', "cancelled: instance 'm (2)' failed (fail_fast)"],
      ['after', 'skipped', "skipped: needed job 'm' did not succeed"]
    ])
    expect(result.status).toBe('failure')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('with fail_fast off, the siblings of a failed instance finish', async () => {
    const { result } = await runYaml(`jobs:
  m:
    strategy:
      matrix: {n: [1, 2, 3]}
      fail_fast: false
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: work, type: sh, run: 'test {{ matrix.n }} != 2'}]
`)
    expect(result.jobs.map((j) => j.status)).toEqual(['success', 'failure', 'success'])
  })

  it('runs an always() report job after a failure; it reads which jobs failed or were skipped', async () => {
    const { result, lines } = await runYaml(`jobs:
  good:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: ok, type: sh, run: "true"}]
  bad:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: boom, type: sh, run: "exit 1"}]
  downstream:
    needs: [bad]
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: never, type: sh, run: "true"}]
  report:
    needs: [good, bad, downstream]
    if: always()
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - name: tell
        type: sh
        run: echo "good={{ needs.good.result }} bad={{ needs.bad.result }} downstream={{ needs.downstream.result }}"
`)
    expect(result.jobs.map((j) => [j.id, j.status])).toEqual([
      ['good', 'success'],
      ['bad', 'failure'],
      ['downstream', 'skipped'],
      ['report', 'success']
    ])
    expect(lines).toContain('[report] good=success bad=failure downstream=skipped')
  })
})
