/**
 * 6. The action's process: how long the bundled entry takes from its start to its first
 * Engine API call (seen by a socket that passes calls on to the engine), against a bare
 * Node process that makes one call; and its peak memory while it runs a 256-instance
 * matrix of `true`, 8 at a time.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { firstCallProxy } from './engine-api.js'
import {
  ACTION,
  IMAGE,
  measured,
  median,
  ms,
  pipelineFile,
  report,
  RUNS,
  shJob,
  workDir,
  type Figure
} from './measure.js'

/** The files and variables the GitHub runner gives a node action. */
function runnerEnv(pipeline: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dir = workDir()
  const files = ['output', 'state', 'summary.md'].map((f) => path.join(dir, `action-${f}`))
  for (const f of files) writeFileSync(f, '')
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_WORKSPACE: dir,
    GITHUB_OUTPUT: files[0],
    GITHUB_STATE: files[1],
    GITHUB_STEP_SUMMARY: files[2],
    RUNNER_TEMP: dir,
    INPUT_PIPELINE: pipeline,
    ...extra
  }
}

/** Milliseconds from spawning `node args` until its first call reaches the engine. */
async function untilFirstCall(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const socket = path.join(workDir(), `engine-${process.hrtime.bigint()}.sock`)
  const proxy = await firstCallProxy(socket)
  const started = performance.now()
  const child = spawn('node', args, {
    stdio: 'ignore',
    env: { ...env, DOCKER_HOST: `unix://${socket}` }
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  await proxy.close()
  const first = proxy.firstCallAt()
  if (code !== 0 || first === undefined) throw new Error(`node ${args[0]} exited ${code}`)
  return first - started
}

/** Runs measure 6. */
export async function actionBench(): Promise<Figure[]> {
  const one = pipelineFile('action-one', `jobs:\n${shJob('a', 'true').join('\n')}\n`)
  const bare = `require('http').get({socketPath: new URL(process.env.DOCKER_HOST).pathname, path: '/_ping'}, (r) => r.resume())`
  const startup: number[] = []
  const floor: number[] = []
  for (let i = 0; i < Math.max(RUNS, 5); i++) {
    startup.push(await untilFirstCall([ACTION], runnerEnv(one)))
    floor.push(await untilFirstCall(['-e', bare], runnerEnv(one)))
  }
  const matrix = pipelineFile(
    'action-matrix',
    `jobs:
  m:
    strategy:
      max_parallel: 8
      matrix: {a: [${Array.from({ length: 16 }, (_, i) => i)}], b: [${Array.from({ length: 16 }, (_, i) => i)}]}
    runs-on: {with: {image: ${IMAGE}}}
    stages: [{name: s, type: sh, run: 'true'}]
`
  )
  const run = await measured('node', [ACTION], runnerEnv(matrix, { 'INPUT_MAX-PARALLEL': '8' }))
  const [startMs, floorMs] = [median(startup), median(floor)]
  return report('6. the action process', [
    {
      measure: 'start-up of dist/action/index.js to its first Engine API call',
      value: ms(startMs),
      baseline: `node making one call ${ms(floorMs)}`,
      ratio: startMs / floorMs,
      target: '< 300 ms',
      met: startMs < 300
    },
    {
      measure: `peak memory running a 256-instance matrix of true, 8 at a time (${ms(run.ms)})`,
      value: `${run.peakRssMb.toFixed(0)} MB`,
      baseline: '-',
      target: '< 150 MB',
      met: run.peakRssMb < 150
    }
  ])
}
