#!/usr/bin/env bash
# The shell and Python programs the product runs (src/**/scripts/) and the project's own
# scripts: shellcheck reads the shell (as POSIX sh where a file says so), python3 compiles
# the Python. Debian's `shellcheck` package; scripts/ci.sh installs it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v shellcheck >/dev/null; then
  echo "lint: shellcheck is not installed (sudo apt-get install shellcheck)" >&2
  exit 1
fi
mapfile -t shell < <(git ls-files -co --exclude-standard -- 'src/*.sh' 'scripts/*.sh' '.ci/run')
mapfile -t python < <(git ls-files -co --exclude-standard -- 'src/*.py')
shellcheck "${shell[@]}"
if [ "${#python[@]}" -gt 0 ]; then
  # Compiled into a folder of its own: nothing is left beside the sources.
  PYTHONPYCACHEPREFIX="$(mktemp -d)" python3 -m py_compile "${python[@]}"
fi
echo "lint: ${#shell[@]} shell and ${#python[@]} Python programs are clean"
