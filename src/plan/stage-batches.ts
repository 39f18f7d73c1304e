import { randomBytes } from 'node:crypto'
import type { StageSpec } from '../pipeline/pipeline-types.js'
import { readsContext } from '../pipeline/template.js'

/**
 * How many bytes of arguments one batch may hand to the engine: Linux allows about 2 MiB
 * of arguments and environment to a process; this leaves the image's environment room.
 */
export const BATCH_ARGS_LIMIT = 512 * 1024

/**
 * Whether a stage can run in a batch, in one exec with its neighbours: what it runs must
 * be known before the stages ahead of it end (no `stages.*` in its script, env or vars),
 * it must run exactly when they all succeeded (no `if:` of its own), once (no `retry`),
 * and it must have no timeout of its own (a timed-out stage kills the container, so it is
 * timed alone).
 */
export function batchable(stage: StageSpec): boolean {
  // A process's stdout is its result, read on its own: it runs in an exec of its own.
  // Stages that hold stages, and raise, are run by the scheduler itself.
  if (
    !['bash', 'sh', 'py', 'cmd'].includes(stage.type) ||
    stage.if !== undefined ||
    stage.timeout_ms !== undefined ||
    stage.retry > 0
  ) {
    return false
  }
  const templates = [
    stage.run ?? '',
    ...(stage.args ?? []),
    ...Object.values(stage.env),
    JSON.stringify(stage.vars ?? {})
  ]
  return !templates.some((text) => readsContext(text, 'stages'))
}

/**
 * The stages, from `from` on, that run together in one batch: the longest run of
 * batchable stages there, cut where their arguments would pass BATCH_ARGS_LIMIT. Empty
 * when the stage at `from` is not batchable.
 */
export function batchAt(stages: readonly StageSpec[], from: number, sizeOf: (i: number) => number) {
  const batch: number[] = []
  let bytes = 0
  for (let i = from; i < stages.length && batchable(stages[i]); i++) {
    bytes += sizeOf(i)
    if (batch.length > 0 && bytes > BATCH_ARGS_LIMIT) break
    batch.push(i)
  }
  return batch
}

/**
 * Stages that run one after another in one process, as the scheduler hands them to a
 * backend (Backend.runBatch): each backend runs it its own way (the Docker and Swarm
 * backends in a shell, backend/scripts/batch.sh; the fake one by its fields), and writes
 * each stage's end, as parseStageEnd reads it, on stdout and on stderr.
 */
export interface StageBatch {
  /** Starts each stage's end line (newBatchMarker). */
  marker: string
  stages: BatchedStage[]
}

/** One stage of a batch, as the engine runs it. */
export interface BatchedStage {
  /** The stage's argument vector (stageCommand). */
  command: string[]
  /** `NAME=value` pairs the stage's process gets besides the container's. */
  env: string[]
  /** Its state folder: the driver says whether it wrote `output` or `annotations` there. */
  stateDir: string
  continueOnError: boolean
}

/**
 * Where a batched stage ended, as the driver writes it on stdout and on stderr (each
 * preceded by a newline of its own): `<marker> <stage> <exit code> <wrote files: 0|1>`.
 */
export interface StageEnd {
  stage: number
  exitCode: number
  wroteFiles: boolean
}

/** A marker no stage prints by chance: random for each batch. */
export function newBatchMarker(): string {
  return `::ctr-stage-end-${randomBytes(12).toString('hex')}::`
}

/** Reads an end marker line; undefined for any other line. */
export function parseStageEnd(marker: string, line: string): StageEnd | undefined {
  if (!line.startsWith(marker) || line[marker.length] !== ' ') return undefined
  const match = /^(\d+) (\d+) ([01])$/.exec(line.slice(marker.length + 1))
  if (!match) return undefined
  return { stage: Number(match[1]), exitCode: Number(match[2]), wroteFiles: match[3] === '1' }
}
