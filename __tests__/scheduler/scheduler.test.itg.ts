import { performance } from 'node:perf_hooks'
import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import {
  BUSYBOX,
  docker,
  intervalsOf,
  leftovers,
  NOTHING_LEFT,
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
})
