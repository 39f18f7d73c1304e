import { createHash } from 'node:crypto'
import type { RunsWhen } from './export-condition.js'
import { placeholder, placeholdersIn, splitPlaceholders } from './placeholders.js'
import { JSON_STRING_SH, READ_OUTPUT_SH } from './scripts/assets.js'

/** One stage of an exported job, rendered: what the job's script runs. */
export interface ScriptStage {
  id: string
  /** The argument vector (stageCommand); empty for an `empty` stage, which prints `echo`. */
  command: string[]
  echo?: string
  /** An empty stage's wait after its echo (ddeutil's `sleep`). */
  sleepSeconds?: number
  env: Record<string, string>
  runsWhen: RunsWhen
  continueOnError: boolean
  /** Where the stage's `$CTR_OUTPUT` and `$CTR_ANNOTATIONS` go. */
  stateDir: string
}

/** Where a job output's value comes from: a stage's output, or a value rendered at export. */
export type OutputSource = { stage: number; key: string } | { value: string }

/**
 * Quotes a value for sh. A value that holds a target's reference (replaced in the script
 * after the export, by the orchestrator) or a newline goes in a quoted here-document, so
 * whatever the reference turns into stays one word and is never read as shell; its
 * delimiter comes from the value's hash, so the same pipeline exports the same script.
 */
export function shValue(text: string): string {
  if (!text.includes('\n') && placeholdersIn(text).length === 0)
    return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
  const delimiter = delimiterOf(text)
  return `"$(cat <<'${delimiter}'\n${text}\n${delimiter}\n)"`
}

/** A here-document's delimiter for a text: from its hash, so the same text exports the same. */
function delimiterOf(text: string): string {
  return `CTR_EOF_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`
}

/** The functions a job script may call: `ctr_read FILE KEY`, `ctr_json VALUE`. */
const READ_OUTPUT = READ_OUTPUT_SH.trimEnd()
const JSON_STRING = JSON_STRING_SH.trimEnd()

/**
 * How a job script hands its outputs to the orchestrator: a file per key (Argo's output
 * parameters), one JSON object in a file (Airflow's KubernetesPodOperator XCom), or one
 * JSON object as the last line of its output (Airflow's DockerOperator XCom).
 */
export type OutputDelivery =
  { kind: 'files'; dir: string } | { kind: 'json-file'; file: string } | { kind: 'json-line' }

/**
 * The sh script that runs a job's stages in its container on a cluster, as the local
 * runner does: one after another, each in its own process with its own environment, a
 * failed one stopping those after it (unless it may continue on error, or they run on
 * failure); then each job output written to `outputsDir/KEY`, and the first failed
 * stage's exit status as the script's.
 */
export function jobScript(
  job: string,
  stages: readonly ScriptStage[],
  outputs: Record<string, OutputSource>,
  delivery: OutputDelivery,
  needsFrom?: (job: string, key: string) => string
): string {
  let words = 0
  /**
   * A word of the script. With `needsFrom` (a target that substitutes nothing), an upstream
   * output is read from its file when the stage starts: the word is built in a variable
   * from quoted literal pieces and the file's exact bytes.
   */
  const word = (text: string, before: string[]): string => {
    if (!needsFrom || !placeholdersIn(text).some((p) => p.kind === 'needs')) return shValue(text)
    const v = `ctr_w${++words}`
    before.push(`${v}=`)
    let literal = ''
    const flush = () => {
      // $(...) drops trailing newlines: an x after the piece keeps them, then goes.
      if (literal)
        before.push(
          `ctr_x=$(cat <<'${delimiterOf(literal)}'\n${literal}\n${delimiterOf(literal)}\nprintf x); ${v}="$${v}\${ctr_x%?x}"`
        )
      literal = ''
    }
    for (const piece of splitPlaceholders(text)) {
      if (typeof piece === 'string' || piece.kind !== 'needs') {
        literal += typeof piece === 'string' ? piece : placeholder(piece)
        continue
      }
      flush()
      const file = shValue(needsFrom(piece.job, piece.key))
      before.push(`ctr_x=$(cat ${file} 2>/dev/null; printf x); ${v}="$${v}\${ctr_x%x}"`)
    }
    flush()
    return `"$${v}"`
  }
  const lines = [
    `# The stages of job ${job}, exported by ctr-pipeline: each runs as it would locally.`,
    'ctr_ok=1 ctr_exit=0',
    // The workspace claim starts empty; locally the run makes these folders in its volume.
    'mkdir -p "$CTR_WORKSPACE" "$CTR_JOB_DIR"'
  ]
  if (Object.values(outputs).some((o) => 'stage' in o)) lines.push(READ_OUTPUT)
  if (delivery.kind !== 'files' && Object.keys(outputs).length > 0) lines.push(JSON_STRING)
  stages.forEach((stage, i) => {
    const guard = guardOf(stage.runsWhen)
    if (guard === undefined) return
    const env = {
      CTR_OUTPUT: `${stage.stateDir}/output`,
      CTR_ANNOTATIONS: `${stage.stateDir}/annotations`,
      CTR_STAGE_ID: stage.id,
      ...stage.env
    }
    const before: string[] = []
    const exports = Object.entries(env)
      .map(([k, v]) => `${k}=${word(v, before)}`)
      .join(' ')
    const body =
      stage.command.length > 0
        ? `exec ${stage.command.map((a) => word(a, before)).join(' ')}`
        : `printf '%s\\n' ${word(stage.echo ?? '', before)}${stage.sleepSeconds ? `; sleep ${stage.sleepSeconds}` : ''}`
    const failed = stage.continueOnError
      ? `echo "stage ${stage.id} failed with exit status $ctr_s; continuing (continue_on_error)" >&2`
      : `ctr_ok=0; if [ "$ctr_exit" = 0 ]; then ctr_exit=$ctr_s; fi`
    lines.push(
      `# stage ${i + 1}: ${stage.id}`,
      `if ${guard}; then`,
      `  mkdir -p ${shValue(stage.stateDir)}`,
      ...before.map((line) => `  ${line}`),
      `  (export ${exports}; ${body}) || { ctr_s=$?; ${failed}; }`,
      'fi'
    )
  })
  lines.push(...deliver(outputs, stages, delivery))
  lines.push('exit "$ctr_exit"')
  return `${lines.join('\n')}\n`
}

/** The lines that hand the outputs on when every stage succeeded (as locally: a job that failed has none). */
function deliver(
  outputs: Record<string, OutputSource>,
  stages: readonly ScriptStage[],
  delivery: OutputDelivery
): string[] {
  const keys = Object.entries(outputs)
  if (keys.length === 0) return []
  const valueOf = (source: OutputSource) =>
    'stage' in source
      ? `"$(ctr_read ${shValue(`${stages[source.stage].stateDir}/output`)} ${shValue(source.key)})"`
      : shValue(source.value)
  const lines = ['if [ "$ctr_exit" = 0 ]; then']
  if (delivery.kind === 'files') {
    lines.push(`  mkdir -p ${shValue(delivery.dir)}`)
    for (const [name, source] of keys)
      lines.push(`  printf '%s' ${valueOf(source)} > ${shValue(`${delivery.dir}/${name}`)}`)
  } else {
    const members = keys.map(
      ([name, source], i) =>
        `  printf '%s%s:%s' ${i === 0 ? "''" : ','} "$(ctr_json ${shValue(name)})" "$(ctr_json ${valueOf(source)})"`
    )
    const target = delivery.kind === 'json-file' ? ` > ${shValue(delivery.file)}` : ''
    if (delivery.kind === 'json-file')
      lines.push(
        `  mkdir -p ${shValue(delivery.file.slice(0, delivery.file.lastIndexOf('/')) || '/')}`
      )
    lines.push('  {', "  printf '{'", ...members, "  printf '}\\n'", `  }${target}`)
  }
  lines.push('fi')
  return lines
}

/** The sh test that lets a stage run; undefined for a stage that never runs. */
function guardOf({ onSuccess, onFailure }: RunsWhen): string | undefined {
  if (onSuccess && onFailure) return 'true'
  if (onSuccess) return '[ "$ctr_ok" = 1 ]'
  if (onFailure) return '[ "$ctr_ok" = 0 ]'
  return undefined
}
