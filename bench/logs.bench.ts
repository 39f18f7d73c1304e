/**
 * 5. Logs: one stage prints 200 MB in lines of 100 bytes. The figure is the stage's
 * throughput through ctr-pipeline to its stdout (read by this process and counted), with
 * the process's peak memory and CPU seconds, and the engine's CPU seconds meanwhile. The
 * target is against the engine's own ceiling, a bare Engine API exec whose output is only
 * counted; `docker run` of the same command, whose output the docker CLI streams to the
 * same reader, is context.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { execReadMs } from './engine-api.js'
import {
  CLI,
  engineCpuSeconds,
  IMAGE,
  measured,
  median,
  pipelineFile,
  report,
  RUNS,
  shJob,
  workDir,
  type Figure,
  type RunDocument
} from './measure.js'

const BYTES = 200_000_000
const LINE = 'x'.repeat(99)
const PRINT = `yes ${LINE} | head -c ${BYTES}`

/** Runs measure 5. */
export async function logsBench(): Promise<Figure[]> {
  const file = pipelineFile('logs', `jobs:\n${shJob('big', PRINT).join('\n')}\n`)
  const resultFile = path.join(workDir(), 'logs-result.json')
  const ours: Array<{ mbps: number; rss: number; bytes: number; cpu: number; engine: number }> = []
  const docker: number[] = []
  const bare: Array<{ mbps: number; engine: number }> = []
  for (let i = 0; i < RUNS; i++) {
    let engineBefore = engineCpuSeconds()
    const run = await measured('node', [CLI, 'run', file, '--result', resultFile])
    const engine = engineCpuSeconds() - engineBefore
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as RunDocument
    const stageMs = result.jobs[0].stages[0].duration_ms
    ours.push({
      mbps: BYTES / 1e6 / (stageMs / 1000),
      rss: run.peakRssMb,
      bytes: run.stdoutBytes,
      cpu: run.cpuSeconds,
      engine
    })
    const plain = await measured('docker', ['run', '--rm', IMAGE, 'sh', '-c', PRINT])
    docker.push(BYTES / 1e6 / (plain.ms / 1000))
    engineBefore = engineCpuSeconds()
    const read = await execReadMs(IMAGE, ['sh', '-c', PRINT])
    bare.push({
      mbps: read.bytes / 1e6 / (read.ms / 1000),
      engine: engineCpuSeconds() - engineBefore
    })
  }
  if (ours.some((o) => o.bytes < BYTES)) throw new Error('the console got less than was printed')
  const mbps = median(ours.map((o) => o.mbps))
  const rss = median(ours.map((o) => o.rss))
  const baseline = median(docker)
  const ceiling = median(bare.map((b) => b.mbps))
  const cpu = median(ours.map((o) => o.cpu))
  return report('5. logs', [
    {
      measure: '200 MB printed by a stage, to the console',
      value: `${mbps.toFixed(0)} MB/s`,
      baseline: `bare Engine API exec, output only counted ${ceiling.toFixed(0)} MB/s`,
      ratio: mbps / ceiling,
      target: '>= 0.90x',
      met: mbps / ceiling >= 0.9
    },
    {
      measure: 'same',
      value: `${mbps.toFixed(0)} MB/s`,
      baseline: `docker run of the same command ${baseline.toFixed(0)} MB/s`,
      ratio: mbps / baseline,
      target: '(context: the docker CLI)',
      met: true
    },
    {
      measure:
        'CPU seconds per 200 MB: the ctr-pipeline process (whole run); the engine (dockerd, containerd) meanwhile',
      value: `${cpu.toFixed(2)} s; engine ${median(ours.map((o) => o.engine)).toFixed(2)} s`,
      baseline: `the engine for the bare exec ${median(bare.map((b) => b.engine)).toFixed(2)} s`,
      target: '(measured)',
      met: true
    },
    {
      measure: 'peak memory of the ctr-pipeline process meanwhile',
      value: `${rss.toFixed(0)} MB`,
      baseline: '-',
      target: '< 150 MB',
      met: rss < 150
    }
  ])
}
