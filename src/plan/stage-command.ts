import type { StageSpec } from '../pipeline/pipeline-types.js'

/**
 * Runs a `py` stage's code with the seed format's `result.context` in scope, then writes
 * what it holds to `$CTR_OUTPUT` in the same `key<<DELIM` form shell stages use, so one
 * reader handles both. Non-string values are written as JSON.
 */
export const PY_STAGE_DRIVER = `
import json, os, sys, traceback, uuid
class _CtrResult:
    def __init__(self):
        self.context = {}
result = _CtrResult()
_ctr_result = result
def _ctr_write_outputs():
    if not _ctr_result.context:
        return
    with open(os.environ["CTR_OUTPUT"], "a", encoding="utf-8") as out:
        for key, value in _ctr_result.context.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            delim = "CTR_EOF_" + uuid.uuid4().hex
            out.write(f"{key}<<{delim}\\n{text}\\n{delim}\\n")
_ctr_globals = {"__name__": "__main__", "result": result}
try:
    exec(compile(sys.argv[1], sys.argv[2], "exec"), _ctr_globals)
except SystemExit:
    _ctr_write_outputs()
    raise
except BaseException as error:
    _ctr_write_outputs()
    traceback.print_exception(type(error), error, error.__traceback__.tb_next)
    sys.exit(1)
_ctr_write_outputs()
`

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
      return ['python3', '-c', PY_STAGE_DRIVER, script, `<stage ${stage.id}>`]
    // A process runs in execs of the stage runner's own (see process-stage).
    case 'cmd':
    case 'empty':
    case 'process':
      return []
  }
}
