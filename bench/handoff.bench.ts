/**
 * Handing 1 GiB from one job to the next. ctr-pipeline mounts the run's workflow volume
 * in both containers, so job B reads the file job A wrote, with no copy. The baseline is
 * what a script of docker commands does without a shared volume: `docker cp` out of A to
 * the host and into B. Also measured in the same run: writing the file once in a plain
 * `docker run` and reading it there, and a two-job pipeline that moves nothing (the per-job overhead), whose
 * sum is the floor the hand-off should stay near.
 *
 * Needs the built CLI (`npm run build`) and the fixture images (`npm run setup`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { median, ms, sh, timed } from './measure.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const IMAGE = 'ctr-fixtures/busybox:latest'
const CLI = path.resolve(import.meta.dirname, '../dist/cli/index.js')
const WRITE = 'dd if=/dev/zero of="$1" bs=1M count=1024 conv=fsync 2>/dev/null'
const READ = 'dd if="$1" of=/dev/null bs=1M 2>/dev/null && test "$(stat -c %s "$1")" -eq 1073741824'

const work = mkdtempSync(path.join(tmpdir(), 'ctr-bench-handoff-'))

function pipelineFile(name: string, writeStage: string, readStage: string): string {
  const file = path.join(work, `${name}.yml`)
  writeFileSync(
    file,
    `jobs:
  a:
    runs-on: {with: {image: ${IMAGE}}}
    stages: [{name: write, type: sh, run: '${writeStage}'}]
  b:
    needs: [a]
    runs-on: {with: {image: ${IMAGE}}}
    stages: [{name: read, type: sh, run: '${readStage}'}]
`
  )
  return file
}

const handoff = pipelineFile(
  'handoff',
  `set -- "$CTR_WORKSPACE/big"; ${WRITE}`,
  `set -- "$CTR_WORKSPACE/big"; ${READ}`
)
const empty = pipelineFile('empty', 'true', 'true')
const runPipeline = (file: string) => () => sh('node', [CLI, 'run', file])

/** The script a user would write without shared volumes: write in A, cp out, cp in, read in B. */
function dockerCp() {
  const host = path.join(work, 'big')
  const a = sh('docker', ['create', IMAGE, 'sh', '-c', WRITE, 'sh', '/big']).trim()
  sh('docker', ['start', '-a', a])
  sh('docker', ['cp', `${a}:/big`, host])
  sh('docker', ['rm', a])
  const b = sh('docker', ['create', IMAGE, 'sh', '-c', READ, 'sh', '/big']).trim()
  sh('docker', ['cp', host, `${b}:/big`])
  sh('docker', ['start', '-a', b])
  sh('docker', ['rm', b])
  rmSync(host)
}

/** The work itself, with nothing handed on: write the file and read it, in one container. */
const writeOnce = () =>
  sh('docker', ['run', '--rm', IMAGE, 'sh', '-c', `${WRITE} && ${READ}`, 'sh', '/big'])

const samples: Record<string, number[]> = { handoff: [], cp: [], write: [], empty: [] }
try {
  for (let i = 0; i < RUNS; i++) {
    samples.handoff.push(timed(runPipeline(handoff)))
    samples.cp.push(timed(dockerCp))
    samples.write.push(timed(writeOnce))
    samples.empty.push(timed(runPipeline(empty)))
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
const [handoffMs, cpMs, writeMs, emptyMs] = ['handoff', 'cp', 'write', 'empty'].map((k) =>
  median(samples[k])
)
const floor = writeMs + emptyMs
console.log(`1 GiB hand-off from job to job (median of ${RUNS})`)
console.log(`  ctr-pipeline, a -> b through the workspace:  ${ms(handoffMs)}`)
console.log(`  docker cp out of a and into b:              ${ms(cpMs)}`)
console.log(
  `  write + read in one docker run, + an empty 2-job run: ${ms(floor)} (${ms(writeMs)} + ${ms(emptyMs)})`
)
console.log(`  ratio against docker cp:    ${(handoffMs / cpMs).toFixed(2)}x (target <= 0.5x)`)
console.log(`  ratio against the floor:    ${(handoffMs / floor).toFixed(2)}x (target <= 1.0x)`)
