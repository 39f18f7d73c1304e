import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import {
  BUSYBOX,
  docker,
  intervalsOf,
  leftovers,
  NOTHING_LEFT,
  peakOverlap,
  runYaml
} from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

const image = `runs-on: {with: {image: ${BUSYBOX}}}`

/** The lines a job printed between the start of a stage and its end, sorted. */
function stageLines(lines: string[], job: string, stage: string): string[] {
  const start = lines.indexOf(`[${job}] stage ${stage} (sh)`)
  const end = lines.findIndex((l, i) => i > start && l.startsWith(`[${job}] stage ${stage}: `))
  expect(start).toBeGreaterThanOrEqual(0)
  expect(end).toBeGreaterThan(start)
  return lines.slice(start + 1, end).sort()
}

describe('stages run in batches', () => {
  it('keeps each stage its own: output, streams, exit code, env, continue_on_error, if:', async () => {
    const { result, lines } = await runYaml(`jobs:
  j:
    ${image}
    stages:
      - {name: a, type: sh, run: 'echo a-out; echo a-err >&2; echo "x=1" >> "$CTR_OUTPUT"'}
      - {name: b, type: sh, run: 'echo b-out; echo b-err >&2; exit 3', continue_on_error: true}
      - {name: c, type: sh, run: 'echo "c: $V, $CTR_STAGE_ID"', env: {V: "it's \\"quoted\\" $HOME"}}
      - {name: d, type: sh, if: 'always()', run: 'echo "d reads {{ stages.a.outputs.x }}"'}
      - {name: e, type: sh, run: 'echo e-err >&2; exit 5'}
      - {name: f, type: sh, run: 'echo never'}
`)
    const [job] = result.jobs
    expect(job.stages.map((s) => [s.id, s.status, s.exit_code])).toEqual([
      ['a', 'success', 0],
      ['b', 'failure', 3],
      ['c', 'success', 0],
      ['d', 'success', 0],
      ['e', 'failure', 5],
      ['f', 'skipped', null]
    ])
    expect(job.stages[0].outputs).toEqual({ x: '1' })
    expect([job.status, job.exit_code]).toEqual(['failure', 5])
    expect(stageLines(lines, 'j', 'a')).toEqual(['[j] a-err', '[j] a-out'])
    expect(stageLines(lines, 'j', 'b')).toEqual(['[j] b-err', '[j] b-out'])
    expect(stageLines(lines, 'j', 'c')).toEqual([`[j] c: it's "quoted" $HOME, c`])
    expect(stageLines(lines, 'j', 'd')).toEqual(['[j] d reads 1'])
    expect(stageLines(lines, 'j', 'e')).toEqual(['[j] e-err'])
    expect(lines.join('\n')).not.toContain('never')
  })
})

describe("containers made ready before their job's turn", () => {
  it('leaves nothing behind when the run is cancelled while containers are being made ready', async () => {
    const controller = new AbortController()
    const jobs = Array.from(
      { length: 6 },
      (_, i) => `  j${i}:\n    ${image}\n    stages: [{name: s, type: sh, run: 'sleep 5'}]`
    )
    setTimeout(() => controller.abort(), 1500)
    const { result, runId } = await runYaml(`jobs:\n${jobs.join('\n')}\n`, {
      maxParallel: 2,
      signal: controller.signal
    })
    expect(result.status).toBe('cancelled')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})

describe('how many instances run at once by default', () => {
  it("a job's own max_parallel holds even above the CPU count", async () => {
    const { result, runId } = await runYaml(
      `jobs:
  m:
    strategy: {max_parallel: 4, matrix: {i: [1, 2, 3, 4, 5, 6, 7, 8]}}
    runs-on: {with: {image: ${BUSYBOX}, entrypoint: [sleep], command: ["1"]}}
`,
      { keep: true }
    )
    const intervals = await intervalsOf(runId)
    expect(result.status).toBe('success')
    expect(peakOverlap(intervals)).toBe(4)
  })
})

describe('when the engine will not let go of something at the end of a run', () => {
  it('the run keeps its result and warns how to remove the rest later', async () => {
    // Docker 20.10 now and then holds a removed container's endpoint (moby/moby#43286).
    class StuckNetwork extends DockerBackend {
      override async sweep(): Promise<never> {
        throw new Error('network ctr-pipeline-x has active endpoints')
      }
    }
    const { result, lines, runId } = await runYaml(
      `jobs:\n  a:\n    ${image}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      { backend: new StuckNetwork(docker) }
    )
    await new DockerBackend(docker).sweep(runId)
    expect(result.status).toBe('success')
    expect(lines.join('\n')).toContain(
      `could not remove everything run ${runId} created: network ctr-pipeline-x has active endpoints; remove it later with: ctr-pipeline cleanup --run-id ${runId}`
    )
  })
})
