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
 * be known before the stages ahead of it end (no `stages.*` in its script or env), it
 * must run exactly when they all succeeded (no `if:` of its own), and it must have no
 * timeout of its own (a timed-out stage kills the container, so it is timed alone).
 */
export function batchable(stage: StageSpec): boolean {
  // A process's stdout is its result, read on its own: it runs in an exec of its own.
  if (
    stage.type === 'empty' ||
    stage.type === 'process' ||
    stage.if !== undefined ||
    stage.timeout_ms !== undefined
  ) {
    return false
  }
  const templates = [stage.run ?? '', ...(stage.args ?? []), ...Object.values(stage.env)]
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

/** What runs a batch: an argument vector, and variables the exec adds to the container's. */
export interface BatchExec {
  argv: string[]
  env: string[]
}

/** The variable that carries the `n`th of stage `i`'s `NAME=value` pairs into the batch. */
const carrier = (i: number, n: number) => `CTR_BATCH_ENV_${i}_${n}`

/**
 * The command that runs stages one after another in one process tree, each in a
 * subshell with its own environment, stopping after the first that fails (unless it may
 * continue on error). After each it writes the end marker to stdout and to stderr, so the
 * engine can tell which stage printed each line of either stream.
 *
 * Commands and folders go in as positional parameters, each as it is; the script itself
 * holds only indexes, so nothing needs quoting. A stage's `env` goes in through the exec's
 * environment, one carrier variable per pair, which its subshell exports and every
 * subshell unsets: a secret in it never appears on a command line, which any user of the
 * host can read (`ps`), only in the process's environment, as `docker run -e` puts it.
 */
export function batchCommand(marker: string, stages: readonly BatchedStage[]): BatchExec {
  const args = [marker]
  const ref = (value: string) => {
    args.push(value)
    return `"\${${args.length}}"`
  }
  const env = stages.flatMap((stage, i) => stage.env.map((pair, n) => `${carrier(i, n)}=${pair}`))
  const carriers = env.map((pair) => pair.slice(0, pair.indexOf('=')))
  const lines = [
    // $1 stage, $2 exit code, $3 state folder, $4 continue on error
    'e() { f=0; if [ -s "$3/output" ] || [ -s "$3/annotations" ]; then f=1; fi',
    `  printf '\\n%s %s %s %s\\n' "$m" "$1" "$2" "$f"; printf '\\n%s %s %s %s\\n' "$m" "$1" "$2" "$f" >&2`,
    '  [ "$2" -eq 0 ] || [ "$4" = 1 ]; }',
    'm=$1'
  ]
  stages.forEach((stage, i) => {
    const exports = stage.env.map((_, n) => `"$${carrier(i, n)}"`).join(' ')
    const unset = carriers.length > 0 ? `unset ${carriers.join(' ')}; ` : ''
    const command = stage.command.map(ref).join(' ')
    const dir = ref(stage.stateDir)
    lines.push(
      `(${exports ? `export ${exports}; ` : ''}${unset}exec ${command}); e ${i} $? ${dir} ${stage.continueOnError ? 1 : 0} || exit 0`
    )
  })
  return { argv: ['sh', '-c', lines.join('\n'), 'ctr-batch', ...args], env }
}

/**
 * The stages of a batch made by batchCommand, with its marker, from its argument vector
 * and the exec's environment: what a backend that does not run a shell (the fake one)
 * needs to play a batch. Undefined for any other command.
 */
export function readBatchCommand(
  argv: readonly string[],
  env: readonly string[] = []
): { marker: string; stages: BatchedStage[] } | undefined {
  if (argv[0] !== 'sh' || argv[1] !== '-c' || argv[3] !== 'ctr-batch') return undefined
  // `sh -c SCRIPT ctr-batch ARGS...`: `${n}` in the script is argv[3 + n].
  const param = (ref: string) => argv[3 + Number(ref.slice(3, -2))]
  const refs = (text: string | undefined) => (text ? text.split(' ').map(param) : [])
  const carried = new Map(
    env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])
  )
  const stages: BatchedStage[] = []
  for (const line of argv[2].split('\n')) {
    const match =
      /^\((?:export ([^;]+); )?(?:unset [^;]+; )?exec ([^)]+)\); e \d+ \$\? (\S+) ([01]) \|\| exit 0$/.exec(
        line
      )
    if (!match) continue
    stages.push({
      env: match[1] ? match[1].split(' ').map((ref) => carried.get(ref.slice(2, -1)) ?? '') : [],
      command: refs(match[2]),
      stateDir: param(match[3]),
      continueOnError: match[4] === '1'
    })
  }
  return { marker: param('"${1}"'), stages }
}

/** Reads an end marker line; undefined for any other line. */
export function parseStageEnd(marker: string, line: string): StageEnd | undefined {
  if (!line.startsWith(marker) || line[marker.length] !== ' ') return undefined
  const match = /^(\d+) (\d+) ([01])$/.exec(line.slice(marker.length + 1))
  if (!match) return undefined
  return { stage: Number(match[1]), exitCode: Number(match[2]), wroteFiles: match[3] === '1' }
}
