#!/usr/bin/env bash
# Names the released repository and tag in actions/pipeline/action.yml, the one composite
# action: a composite can only `uses:` its siblings as owner/repo/path@ref, and in the
# source they are OWNER/ctr-pipeline...@v1 (README: Versioning). Run by the release
# workflow on the tagged commit:  scripts/release-name-composite.sh octo/ctr-pipeline v1.2.3
set -euo pipefail
repository="$1"
tag="$2"
file="${3:-actions/pipeline/action.yml}"
sed -i -E "s#uses: OWNER/ctr-pipeline([^@ ]*)@v1\$#uses: ${repository}\\1@${tag}#" "$file"
if grep -q 'OWNER/ctr-pipeline' "$file"; then
  echo "release-name-composite: $file still names OWNER/ctr-pipeline" >&2
  exit 1
fi
