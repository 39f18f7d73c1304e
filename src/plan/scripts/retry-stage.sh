#!/bin/sh
# Runs the stage's command (the arguments) again for a retry: its output files start
# empty, so what a failed attempt wrote is not taken for the stage's outputs.
: > "$CTR_OUTPUT"
: > "$CTR_ANNOTATIONS"
exec "$@"
