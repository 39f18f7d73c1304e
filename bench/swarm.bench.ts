/**
 * The swarm backend on the three-node lab of scripts/swarm-lab.sh (brought up here and
 * taken down after): what a job costs over creating the same services by hand with the
 * docker CLI, how a matrix fills six slots over three nodes, and what handing 64 MiB from
 * one job to the next costs against piping the same bytes from a container on one node
 * into a container on another by hand.
 */
import { execFileSync } from 'node:child_process'
import { labEnv } from '../__tests__/helpers/swarm-lab.js'
import {
  IMAGE,
  interleaved,
  ms,
  pairedDifference,
  pipelineFile,
  ratioFigure,
  report,
  runPipeline,
  RUNS,
  sh,
  shJob,
  type Figure
} from './measure.js'

const CHAIN = 20
const MATRIX = 12
const SLOTS = 6

export async function swarmBench(): Promise<Figure[]> {
  sh('bash', ['scripts/swarm-lab.sh', 'down'])
  sh('bash', ['scripts/swarm-lab.sh', 'up'])
  try {
    const { DOCKER_HOST, nodes } = labEnv()
    const env = { ...process.env, DOCKER_HOST, CTR_SWARM_HELPER_IMAGE: IMAGE }
    const run = (file: string, args: string[] = []) =>
      runPipeline(file, ['--backend', 'swarm', ...args], { env })
    const docker = (args: string[]) => sh('docker', args, { env })
    return report('Swarm backend (three-node lab)', [
      ...(await perJob(run, docker)),
      ...(await matrix(run, docker, env)),
      ...(await handoff(run, nodes))
    ])
  } finally {
    sh('bash', ['scripts/swarm-lab.sh', 'down'])
  }
}

type Run = (file: string, args?: string[]) => ReturnType<typeof runPipeline>

/**
 * `docker service create` of one-task jobs running `true`, waiting for each: on no
 * network (the baseline), or on an attachable overlay network as the run's tasks
 * are (attaching a task to an overlay network costs the engine about half a second).
 */
function cliJobs(docker: (args: string[]) => string, names: string[], network?: string) {
  for (const name of names)
    docker([
      'service',
      'create',
      '--quiet',
      '--name',
      name,
      '--mode',
      'replicated-job',
      '--restart-condition',
      'none',
      '--detach=false',
      '--no-resolve-image',
      ...(network ? ['--network', network] : []),
      IMAGE,
      'true'
    ])
  docker(['service', 'rm', ...names])
}

/** 1. Per job: a chain of one-stage jobs against the same number of services by hand. */
async function perJob(run: Run, docker: (args: string[]) => string): Promise<Figure[]> {
  const lines = ['jobs:']
  for (let i = 0; i < CHAIN; i++) {
    lines.push(...shJob(`j${i}`, 'true', i > 0 ? [`needs: [j${i - 1}]`] : []))
  }
  const file = pipelineFile('swarm-chain', `${lines.join('\n')}\n`)
  const names = Array.from({ length: CHAIN }, (_, i) => `bench-chain-${i}`)
  docker(['network', 'create', '--driver', 'overlay', '--attachable', 'bench-overlay'])
  try {
    const times = await interleaved(RUNS, {
      pipeline: () => run(file),
      bare: () => cliJobs(docker, names),
      overlay: () => cliJobs(docker, names, 'bench-overlay')
    })
    const measure = `${CHAIN} sequential one-stage jobs on the swarm`
    return [
      ratioFigure(
        measure,
        times.pipeline,
        {
          label: `${CHAIN} docker service create --mode replicated-job --detach=false, rm`,
          ms: times.bare
        },
        1.0
      ),
      ratioFigure(
        measure,
        times.pipeline,
        { label: "the same, each task on an overlay network as the run's are", ms: times.overlay },
        1.0
      )
    ]
  } finally {
    docker(['network', 'rm', 'bench-overlay'])
  }
}

/** 2. A matrix of `sleep 1` over six slots: its ideal is two waves plus one job's overhead. */
async function matrix(
  run: Run,
  docker: (args: string[]) => string,
  dockerEnv: NodeJS.ProcessEnv
): Promise<Figure[]> {
  const values = Array.from({ length: MATRIX }, (_, i) => i + 1).join(', ')
  const file = pipelineFile(
    'swarm-matrix',
    `jobs:\n  m:\n    strategy: {matrix: {n: [${values}]}, max_parallel: ${SLOTS}}\n` +
      `    runs-on: {with: {image: ${IMAGE}}}\n    stages: [{name: s, type: sh, run: 'sleep 1'}]\n`
  )
  const one = pipelineFile('swarm-one', `jobs:\n${shJob('j', 'true').join('\n')}\n`)
  // By hand: the same tasks on an overlay network, in waves of SLOTS created at once.
  const waves = Math.ceil(MATRIX / SLOTS)
  const wave = (w: number) =>
    Array.from(
      { length: SLOTS },
      (_, i) =>
        `docker service create --quiet --name bench-m${w}-${i} --mode replicated-job ` +
        `--restart-condition none --detach=false --no-resolve-image --network bench-overlay ` +
        `${IMAGE} sleep 1 >/dev/null &`
    ).join('\n') + '\nwait'
  const byHand = Array.from({ length: waves }, (_, w) => wave(w)).join('\n')
  const names = Array.from(
    { length: waves * SLOTS },
    (_, i) => `bench-m${Math.floor(i / SLOTS)}-${i % SLOTS}`
  )
  docker(['network', 'create', '--driver', 'overlay', '--attachable', 'bench-overlay'])
  try {
    const times = await interleaved(RUNS, {
      matrix: () => run(file),
      one: () => run(one),
      byHand: () => {
        sh('sh', ['-ec', byHand], { env: dockerEnv })
        docker(['service', 'rm', ...names])
      }
    })
    const measure = `matrix ${MATRIX} x sleep 1, max_parallel ${SLOTS}, 3 nodes`
    return [
      ratioFigure(
        measure,
        times.matrix,
        { label: `ideal: ${waves} s + one one-job run`, ms: waves * 1000 + times.one },
        1.25
      ),
      ratioFigure(
        measure,
        times.matrix,
        {
          label: `the same tasks by hand, ${waves} waves of ${SLOTS} on an overlay network`,
          ms: times.byHand
        },
        1.0
      )
    ]
  } finally {
    docker(['network', 'rm', 'bench-overlay'])
  }
}

/** 3. 64 MiB from a job to one that needs it, against piping it across nodes by hand. */
async function handoff(run: Run, nodes: string[]): Promise<Figure[]> {
  const write = 'head -c 67108864 /dev/zero > "$CTR_WORKSPACE/data.bin"'
  const read = 'test "$(wc -c < "$CTR_WORKSPACE/data.bin")" -eq 67108864'
  const file = pipelineFile(
    'swarm-handoff',
    `jobs:\n${shJob('a', write).join('\n')}\n${shJob('b', read, ['needs: [a]']).join('\n')}\n`
  )
  const empty = pipelineFile(
    'swarm-handoff-none',
    `jobs:\n${shJob('a', 'true').join('\n')}\n${shJob('b', 'true', ['needs: [a]']).join('\n')}\n`
  )
  const byHand = () => {
    // What a script without the workspace service does: out of a container on one node,
    // through the host, into a container on another.
    const [from, to] = nodes
    execFileSync(
      'sh',
      [
        '-ec',
        `docker -H ${from} run --rm ${IMAGE} head -c 67108864 /dev/zero | ` +
          `docker -H ${to} run --rm -i ${IMAGE} sh -c 'cat > /tmp/data.bin; test "$(wc -c < /tmp/data.bin)" -eq 67108864'`
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] }
    )
  }
  // Paired, and more pairs than the other figures: a difference of two runs of many seconds.
  const pairs = Math.max(RUNS, 5)
  const cost = await pairedDifference(
    pairs,
    () => run(file),
    () => run(empty)
  )
  const byHandMs = (await interleaved(RUNS, { byHand })).byHand
  const runs = `run ${ms(cost.subject)}, the same two jobs moving nothing ${ms(cost.baseline)}`
  return [
    {
      measure: '64 MiB hand-off between two jobs on the swarm',
      value:
        cost.resolved === undefined
          ? `not resolved: within the runs' noise (pair differences ${cost.spread}; ${runs})`
          : `${ms(cost.resolved)} (median of pair differences ${cost.spread}; ${runs})`,
      baseline: `docker run on one node piped into docker run on another ${ms(byHandMs)}`,
      ...(cost.resolved === undefined ? {} : { ratio: cost.resolved / byHandMs }),
      target: 'resolved from noise (measured)',
      met: cost.resolved !== undefined
    }
  ]
}
