# Runs a `py` stage's code (argv[1], named argv[2] in tracebacks) with the page's
# `result.context` in scope, then writes its outputs to $CTR_OUTPUT in the same
# `key<<DELIM` form shell stages use, so one reader handles both; non-string values are
# written as JSON. A ddeutil workflow's stage (CTR_PY_DDEUTIL=1) runs as ddeutil-workflow
# runs it: its `vars` (CTR_PY_VARS, JSON) are globals, the code's top-level names live in
# a locals dict of their own, and those that are data (not modules, classes or functions)
# are outputs too, beside result.context.
import json
import os
import sys
import traceback
import uuid
from inspect import isclass, ismodule


class _CtrResult:
    def __init__(self):
        self.context = {}


result = _CtrResult()
_ctr_result = result
_ctr_ddeutil = os.environ.pop("CTR_PY_DDEUTIL", "") == "1"
_ctr_globals = {"__name__": "__main__", "result": result}
_ctr_globals.update(json.loads(os.environ.pop("CTR_PY_VARS", "{}")))
_ctr_locals = {} if _ctr_ddeutil else _ctr_globals


def _ctr_is_output(name, value):
    dunder = name.startswith("__") and name.endswith("__")
    return not (dunder or ismodule(value) or isclass(value) or callable(value))


def _ctr_write_outputs():
    outputs = {}
    if _ctr_ddeutil:
        for name, value in _ctr_locals.items():
            if _ctr_is_output(name, value):
                outputs[name] = value
    outputs.update(_ctr_result.context)
    if not outputs:
        return
    with open(os.environ["CTR_OUTPUT"], "a", encoding="utf-8") as out:
        for key, value in outputs.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            delim = "CTR_EOF_" + uuid.uuid4().hex
            out.write(f"{key}<<{delim}\n{text}\n{delim}\n")


try:
    exec(compile(sys.argv[1], sys.argv[2], "exec"), _ctr_globals, _ctr_locals)
except SystemExit:
    _ctr_write_outputs()
    raise
except BaseException as error:
    _ctr_write_outputs()
    traceback.print_exception(type(error), error, error.__traceback__.tb_next)
    sys.exit(1)
_ctr_write_outputs()
