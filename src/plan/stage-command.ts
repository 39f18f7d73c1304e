import { PY_STAGE_PY } from './scripts/assets.js'
import type { StageSpec } from '../pipeline/pipeline-types.js'

/**
 * Runs a `bash` stage with bash where the image has it, else with sh and a warning on
 * stderr: deciding inside the one exec costs no extra round trip to the engine.
 */
const BASH_OR_SH = [
  'if command -v bash >/dev/null 2>&1; then exec bash --noprofile --norc -eo pipefail -c "$1"; fi',
  'echo "warning: the image has no bash; running this bash stage with sh" >&2',
  'exec sh -e -c "$1"'
].join('\n')

/**
 * The argument vector that runs a stage in its container: `script` is the rendered `run:`
 * (or, for `cmd`, the rendered `args:`). Empty stages run nothing.
 */
export function stageCommand(
  stage: Pick<StageSpec, 'type' | 'id'>,
  script: string | string[]
): string[] {
  if (Array.isArray(script)) return stage.type === 'cmd' ? script : []
  switch (stage.type) {
    case 'bash':
      return ['sh', '-c', BASH_OR_SH, 'ctr-stage', script]
    case 'sh':
      return ['sh', '-e', '-c', script]
    case 'py':
      // scripts/py-stage.py: the code runs with `result.context` (and ddeutil's rules).
      return ['python3', '-c', PY_STAGE_PY, script, `<stage ${stage.id}>`]
    // A process runs in execs of the stage runner's own (see process-stage).
    // Stages that hold stages, and raise, run nothing of their own (stage-runner).
    case 'cmd':
    case 'empty':
    case 'process':
    case 'foreach':
    case 'until':
    case 'parallel':
    case 'case':
    case 'raise':
      return []
  }
}
