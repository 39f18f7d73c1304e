#!/usr/bin/env bash
# Fetches the Node.js runtimes the CLI supports (package.json engines: 22.12 and later;
# 22 and 24 are the LTS lines) for the test that runs the bundled CLI under each. They
# come from the npm registry (node-linux-<arch>, the official binaries as packages), since
# that is the one place this machine's network reaches, and are cached:
#   $CTR_FIXTURE_CACHE/node-<major>/node   (default cache: ~/.cache/ctr-pipeline)
# Prints the path of each runtime. Idempotent: a second run only checks.
set -euo pipefail

CACHE_DIR="${CTR_FIXTURE_CACHE:-$HOME/.cache/ctr-pipeline}"
MAJORS="${CTR_NODE_MAJORS:-22 24}"

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-runtimes: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac

for major in $MAJORS; do
  dir="$CACHE_DIR/node-$major"
  if [ ! -x "$dir/node" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$major" >/dev/null)
    mkdir -p "$dir"
    tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp" package/bin/node
    mv "$tmp/package/bin/node" "$dir/node"
    rm -rf "$tmp"
  fi
  echo "$dir/node"
done
