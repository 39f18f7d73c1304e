#!/usr/bin/env bash
# The project's whole check, as CI runs it and as the README's test command:
# install, lint, type-check, rebuild dist/ and fail if it was stale, prepare the Docker
# engine and fixture images, then unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "install dependencies"
npm ci --no-audit --no-fund --loglevel=error

step "shellcheck, which lints the shell programs the product runs"
if ! command -v shellcheck >/dev/null; then
  root=""
  [ "$(id -u)" -eq 0 ] || root=sudo
  $root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $root apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
fi

step "lint and format"
npm run lint --silent

step "type-check"
npm run typecheck --silent

step "dist/ is built from this source"
npm run build --silent >/dev/null
if [ -n "$(git status --porcelain -- dist)" ]; then
  git status --short -- dist
  echo "dist/ is stale: run 'npm run build' and commit dist/" >&2
  exit 1
fi

step "Docker engine, fixture images, and a headless Chromium for the report's browser test"
bash scripts/setup.sh --with-browser

step "the Node.js runtimes the CLI supports (22, 24), for the test that runs it on each"
bash scripts/node-runtimes.sh

step "unit tests"
npm run test:unit --silent

step "integration tests (real Docker engine)"
npm run test:itg --silent

step "nothing labelled ctr-pipeline is left on the engine"
left=$(docker ps -aq --filter label=ctr-pipeline.managed; docker volume ls -q --filter label=ctr-pipeline.managed; docker network ls -q --filter label=ctr-pipeline.managed; docker images -q --filter reference="ctr-pipeline-build/*")
if [ -n "$left" ]; then
  echo "left behind: $left" >&2
  exit 1
fi
step "nothing of the swarm lab is left on the host"
lab=$(bash scripts/swarm-lab.sh check)
if [ -n "$lab" ]; then
  echo "left behind by the swarm lab: $lab" >&2
  exit 1
fi
if [ -d test-artifacts ]; then
  echo "kept for review: $(ls -d test-artifacts/*)"
fi
echo "all checks passed"
