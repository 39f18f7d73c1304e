#!/bin/sh
# Seed 003's C processes (a * b, a / b) in sh and awk: no C compiler reaches this image's
# build offline. Run with nothing on stdin, it describes itself.
input=$(cat)
if [ -z "$input" ]; then
  printf '{"description": "a %s b", "inputs": {"a": 1.0, "b": 1.0}, "outputs": {"z": 1.0}}\n' "$1"
  exit 0
fi
num() { printf '%s' "$input" | sed -n "s/.*\"$1\" *: *\(-\{0,1\}[0-9.eE+-]*\).*/\1/p"; }
awk -v a="$(num a)" -v b="$(num b)" -v op="$1" \
  'BEGIN { z = (op == "divide") ? a / b : a * b; printf "{\"z\": %.17g}\n", z }'
