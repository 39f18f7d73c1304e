// Made by scripts/inline-assets.mjs from the programs in this folder: edit those, then run
// `npm run assets`. `npm run lint` fails when this file and they differ.

/** src/backend/scripts/batch.sh, as it runs. */
export const BATCH_SH =
  'ended() {\n  f=0\n  if [ -s "$3/output" ] || [ -s "$3/annotations" ]; then f=1; fi\n  printf \'\\n%s %s %s %s\\n\' "$marker" "$1" "$2" "$f"\n  printf \'\\n%s %s %s %s\\n\' "$marker" "$1" "$2" "$f" >&2\n}\nmarker=$1\nshift\ni=0\nwhile [ $# -gt 0 ]; do\n  dir=$1 continues=$2 words=$3\n  shift 3\n  (\n    j=0\n    while eval "[ -n \\"\\${CTR_BATCH_ENV_${i}_${j}+x}\\" ]"; do\n      eval "export \\"\\$CTR_BATCH_ENV_${i}_${j}\\""\n      j=$((j + 1))\n    done\n    unset $CTR_BATCH_CARRIERS CTR_BATCH_CARRIERS\n    w=0\n    for word do\n      [ "$w" -lt "$words" ] || break\n      [ "$w" -gt 0 ] || set --\n      set -- "$@" "$word"\n      w=$((w + 1))\n    done\n    exec "$@"\n  )\n  code=$?\n  shift "$words"\n  ended "$i" "$code" "$dir"\n  [ "$code" -eq 0 ] || [ "$continues" = 1 ] || exit 0\n  i=$((i + 1))\ndone\n'
