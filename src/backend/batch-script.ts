import type { StageBatch } from '../plan/stage-batches.js'
import { BATCH_SH } from './scripts/assets.js'

/** What runs a batch in a shell: an argument vector, and variables the exec adds. */
export interface BatchExec {
  argv: string[]
  env: string[]
}

/** The variable that carries the `n`th of stage `i`'s `NAME=value` pairs into the batch. */
const carrier = (i: number, n: number) => `CTR_BATCH_ENV_${i}_${n}`

/**
 * A batch as a shell runs it (scripts/batch.sh), for the backends that run stages in a
 * shell (Docker's driver or exec, a Swarm task). Commands and folders go in as positional
 * parameters, each as it is; a stage's `env` goes in through the exec's environment, one
 * carrier variable per pair, never on a command line (which any user of the host can read).
 */
export function batchExec(batch: StageBatch): BatchExec {
  const env = batch.stages.flatMap((stage, i) =>
    stage.env.map((pair, n) => `${carrier(i, n)}=${pair}`)
  )
  const carriers = env.map((pair) => pair.slice(0, pair.indexOf('=')))
  const args = batch.stages.flatMap((stage) => [
    stage.stateDir,
    stage.continueOnError ? '1' : '0',
    String(stage.command.length),
    ...stage.command
  ])
  return {
    argv: ['sh', '-c', BATCH_SH, 'ctr-batch', batch.marker, ...args],
    env: [...env, `CTR_BATCH_CARRIERS=${carriers.join(' ')}`]
  }
}
