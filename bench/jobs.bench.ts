/**
 * What a job and a stage cost over raw Docker, how a matrix fills its slots, and how the
 * per-job cost grows with the number of jobs. Each subject runs in turn with its
 * baselines, RUNS times; figures are medians.
 */
import { execFileSync } from 'node:child_process'
import pLimit from 'p-limit'
import { composeAvailable, composeFile, composeUpDown } from './compose.js'
import { call, runOnce } from './engine-api.js'
import {
  IMAGE,
  interleaved,
  ms,
  pipelineFile,
  ratioFigure,
  report,
  runPipeline,
  RUNS,
  sh,
  shJob,
  type Figure
} from './measure.js'

const SEQUENTIAL_JOBS = 20

/** In place of a compose figure where docker-compose is not installed. */
const NO_COMPOSE: Figure = {
  measure: 'docker-compose baseline',
  value: '-',
  baseline: 'docker-compose is not installed (apt-get install docker-compose)',
  target: '(a peer, measured where installed)',
  met: true
}
const STAGES = 50

/** 1. Per job: a chain of one-stage jobs against the same containers run by hand. */
async function perJob(): Promise<Figure[]> {
  const lines = ['jobs:']
  for (let i = 0; i < SEQUENTIAL_JOBS; i++) {
    lines.push(...shJob(`j${i}`, 'true', i > 0 ? [`needs: [j${i - 1}]`] : []))
  }
  const file = pipelineFile('sequential', `${lines.join('\n')}\n`)
  const script = Array.from({ length: SEQUENTIAL_JOBS }, () => `docker run --rm ${IMAGE} true`)
  const chain = composeFile(
    'chain',
    Array.from({ length: SEQUENTIAL_JOBS }, (_, i) => ({
      id: `j${i}`,
      command: 'true',
      ...(i > 0 ? { after: `j${i - 1}` } : {})
    }))
  )
  const compose = composeAvailable()
  const times = await interleaved(RUNS, {
    pipeline: () => runPipeline(file),
    shell: () => sh('sh', ['-ec', script.join('\n')]),
    api: async () => {
      for (let i = 0; i < SEQUENTIAL_JOBS; i++) await runOnce(IMAGE, ['true'])
    },
    compose: () => compose && composeUpDown(chain)
  })
  const measure = `${SEQUENTIAL_JOBS} sequential one-stage jobs`
  return [
    ratioFigure(
      measure,
      times.pipeline,
      { label: `shell script of ${SEQUENTIAL_JOBS} docker run --rm`, ms: times.shell },
      0.85
    ),
    compose
      ? ratioFigure(
          measure,
          times.pipeline,
          {
            label: `docker-compose up + down, ${SEQUENTIAL_JOBS} services chained by depends_on (service_completed_successfully)`,
            ms: times.compose
          },
          0.5
        )
      : NO_COMPOSE,
    ratioFigure(
      measure,
      times.pipeline,
      { label: 'bare Engine API loop (create, start, wait, remove)', ms: times.api },
      1.1
    ),
    {
      measure: 'per job',
      value: ms(times.pipeline / SEQUENTIAL_JOBS),
      baseline: `docker run --rm ${ms(times.shell / SEQUENTIAL_JOBS)}, bare API ${ms(times.api / SEQUENTIAL_JOBS)}`,
      target: '(the two ratios above)',
      met: times.pipeline <= 0.85 * times.shell && times.pipeline <= 1.1 * times.api
    }
  ]
}

/** 2. Per stage: one job of many stages against as many `docker exec` into one container. */
async function perStage(): Promise<Figure[]> {
  const stages = Array.from(
    { length: STAGES },
    (_, i) => `      - {name: s${i}, type: sh, run: 'true'}`
  )
  const file = pipelineFile(
    'stages',
    `jobs:\n  j:\n    runs-on: {with: {image: ${IMAGE}}}\n    stages:\n${stages.join('\n')}\n`
  )
  const container = sh('docker', ['run', '-d', IMAGE, 'sleep', '3600']).trim()
  const stageSpans: number[] = []
  try {
    const times = await interleaved(RUNS, {
      exec: () => {
        for (let i = 0; i < STAGES; i++) execFileSync('docker', ['exec', container, 'true'])
      },
      pipeline: () => {
        const { jobs } = runPipeline(file)
        stageSpans.push(jobs[0].stages.reduce((sum, s) => sum + s.duration_ms, 0))
      }
    })
    stageSpans.sort((a, b) => a - b)
    const stagesMs = stageSpans[Math.floor(stageSpans.length / 2)]
    return [
      ratioFigure(
        `${STAGES} stages of one job (their durations, summed)`,
        stagesMs,
        { label: `${STAGES} docker exec into a running container`, ms: times.exec },
        0.6
      ),
      {
        measure: `the whole ${STAGES}-stage pipeline, from the command line`,
        value: ms(times.pipeline),
        baseline: `${STAGES} docker exec ${ms(times.exec)}`,
        ratio: times.pipeline / times.exec,
        target: '(context: includes the process, the container and the run)',
        met: true
      }
    ]
  } finally {
    sh('docker', ['rm', '-f', container])
  }
}

/** 3. Matrix: 16 instances of `sleep 1`, 4 at a time, against 4 s plus one job's overhead. */
async function matrix(): Promise<Figure[]> {
  const file = pipelineFile(
    'matrix',
    `jobs:
  m:
    strategy: {max_parallel: 4, matrix: {i: [${Array.from({ length: 16 }, (_, i) => i).join(', ')}]}}
    runs-on: {with: {image: ${IMAGE}}}
    stages: [{name: s, type: sh, run: 'sleep 1'}]
`
  )
  const one = pipelineFile('one-job', `jobs:\n${shJob('a', 'true').join('\n')}\n`)
  const sixteen = composeFile(
    'matrix',
    Array.from({ length: 16 }, (_, i) => ({ id: `m${i}`, command: 'sleep 1' }))
  )
  const compose = composeAvailable()
  const times = await interleaved(RUNS, {
    matrix: () => runPipeline(file),
    one: () => runPipeline(one),
    // The engine's own work for the same 16 containers, 4 at a time, nothing else around.
    bare: () => {
      const slots = pLimit(4)
      return Promise.all(
        Array.from({ length: 16 }, () => slots(() => runOnce(IMAGE, ['sleep', '1'])))
      )
    },
    // With COMPOSE_PARALLEL_LIMIT=4, `up` of 16 services deadlocks (docker/compose#5864, seen
    // here with 1.29.2): its limit is on compose's own calls, and creating a service holds
    // a slot while it waits for another to start it. Unlimited, all 16 run at once.
    compose: () => compose && composeUpDown(sixteen)
  })
  const ideal = 4000 + times.one
  const ratio = times.matrix / ideal
  return [
    {
      measure: '16 x sleep 1, max_parallel 4',
      value: ms(times.matrix),
      baseline: `4 s + one one-job run ${ms(times.one)} = ${ms(ideal)}`,
      ratio,
      target: '<= 1.10x',
      met: ratio <= 1.1
    },
    {
      measure: 'same',
      value: ms(times.matrix),
      baseline: `bare Engine API, the 16 containers (create, start, wait, remove) 4 at a time ${ms(times.bare)}`,
      ratio: times.matrix / times.bare,
      target: "(context: the engine's floor for this work)",
      met: true
    },
    compose
      ? {
          measure: 'same',
          value: ms(times.matrix),
          baseline: `docker-compose up + down, 16 services, all at once (COMPOSE_PARALLEL_LIMIT=4 deadlocks: docker/compose#5864) ${ms(times.compose)}`,
          ratio: times.matrix / times.compose,
          target: '(context: not the same work)',
          met: true
        }
      : NO_COMPOSE
  ]
}

/**
 * 7. Cost growth: N independent one-stage jobs, 4 at a time. The per-job figure is the
 * marginal cost, (wall(N) - wall(1)) / (N - 1), so the run's fixed cost does not hide a
 * cost that grows with N.
 */
async function growth(): Promise<Figure[]> {
  const file = (n: number) =>
    pipelineFile(
      `jobs-${n}`,
      `jobs:\n${Array.from({ length: n }, (_, i) => shJob(`j${i}`, 'true').join('\n')).join('\n')}\n`
    )
  const args = ['--max-parallel', '4']
  const sizes = [10, 100, 256]
  const base = await interleaved(RUNS, { one: () => runPipeline(file(1), args) })
  const perJob: number[] = []
  for (const n of sizes) {
    // The big runs take long enough that one run is a steady figure.
    const runs = n >= 100 ? 1 : RUNS
    const { wall } = await interleaved(runs, { wall: () => runPipeline(file(n), args) })
    perJob.push((wall - base.one) / (n - 1))
  }
  const spread = Math.max(...perJob) / Math.min(...perJob)
  return [
    {
      measure: `per-job cost at ${sizes.join(' / ')} jobs (4 at a time)`,
      value: perJob.map(ms).join(' / '),
      baseline: `a one-job run ${ms(base.one)}`,
      ratio: spread,
      target: 'flat: largest / smallest <= 1.25x',
      met: spread <= 1.25
    }
  ]
}

/** Runs measures 1, 2, 3 and 7. */
export async function jobsBench(): Promise<Figure[]> {
  // The engine's image cache and the page cache are warm for everyone.
  await call('GET', `/images/${IMAGE}/json`)
  return [
    ...report('1. per job', await perJob()),
    ...report('2. per stage', await perStage()),
    ...report('3. matrix', await matrix()),
    ...report('7. cost growth', await growth())
  ]
}
