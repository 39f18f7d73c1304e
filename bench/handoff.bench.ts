/**
 * Handing 1 GiB from one job to the next. ctr-pipeline mounts the run's workflow volume
 * in both containers, so job B reads the file job A wrote, with no copy. The baseline is
 * what a script of docker commands does without a shared volume: `docker cp` out of A to
 * the host and into B. Also measured in the same run: writing the file once in a plain
 * `docker run` and reading it there, and a two-job pipeline that moves nothing (the per-job overhead), whose
 * sum is the floor the hand-off should stay near.
 *
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
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
  workDir,
  type Figure
} from './measure.js'

const WRITE = 'dd if=/dev/zero of="$1" bs=1M count=1024 conv=fsync 2>/dev/null'
const READ = 'dd if="$1" of=/dev/null bs=1M 2>/dev/null && test "$(stat -c %s "$1")" -eq 1073741824'

function twoJobs(name: string, writeStage: string, readStage: string): string {
  return pipelineFile(
    name,
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
}

/** The script a user would write without shared volumes: write in A, cp out, cp in, read in B. */
function dockerCp() {
  const host = path.join(workDir(), 'big')
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

/** Runs measure 4. */
export async function handoffBench(): Promise<Figure[]> {
  const handoff = twoJobs(
    'handoff',
    `set -- "$CTR_WORKSPACE/big"; ${WRITE}`,
    `set -- "$CTR_WORKSPACE/big"; ${READ}`
  )
  const empty = twoJobs('empty', 'true', 'true')
  const times = await interleaved(RUNS, {
    handoff: () => runPipeline(handoff),
    cp: dockerCp,
    // The work itself, with nothing handed on: write the file and read it, in one container.
    write: () =>
      sh('docker', ['run', '--rm', IMAGE, 'sh', '-c', `${WRITE} && ${READ}`, 'sh', '/big']),
    empty: () => runPipeline(empty)
  })
  const floor = times.write + times.empty
  return report('4. 1 GiB hand-off from job to job', [
    ratioFigure(
      'a -> b through the workspace volume',
      times.handoff,
      { label: 'docker cp out of a and into b', ms: times.cp },
      0.5
    ),
    {
      ...ratioFigure(
        'a -> b through the workspace volume',
        times.handoff,
        {
          label: `floor: write + read in one docker run ${ms(times.write)}, + an empty two-job run ${ms(times.empty)} =`,
          ms: floor
        },
        1.0
      ),
      target: '(context: the floor)',
      met: true
    }
  ])
}
