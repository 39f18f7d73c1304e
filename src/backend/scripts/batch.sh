# shellcheck shell=sh
# Runs a batch of stages one after another in one process tree, each in a subshell with
# its own environment, stopping after the first that fails (unless it may continue on
# error). After each it writes the end marker to stdout and to stderr, so the engine can
# tell which stage printed each line of either stream:
#   <newline><marker> <stage> <exit code> <wrote files: 0|1><newline>
#
# Arguments: the marker, then for each stage its state folder, 1 when it may continue on
# error (else 0), how many words its command has, and those words, each as it is: no
# user text is ever shell syntax here.
#
# Stage i's NAME=value pairs come in the environment as CTR_BATCH_ENV_<i>_<n>, and
# CTR_BATCH_CARRIERS names every carrier: a secret never appears on a command line (which
# any user of the host can read), and no stage's process sees another's carriers.

# $1 stage, $2 exit code, $3 state folder: the stage's end marker, on both streams.
ended() {
  f=0
  if [ -s "$3/output" ] || [ -s "$3/annotations" ]; then f=1; fi
  printf '\n%s %s %s %s\n' "$marker" "$1" "$2" "$f"
  printf '\n%s %s %s %s\n' "$marker" "$1" "$2" "$f" >&2
}

marker=$1
shift
i=0
while [ $# -gt 0 ]; do
  dir=$1 continues=$2 words=$3
  shift 3
  (
    j=0
    # The indexes are numbers: eval sees no user text, only the carrier's name.
    while eval "[ -n \"\${CTR_BATCH_ENV_${i}_${j}+x}\" ]"; do
      eval "export \"\$CTR_BATCH_ENV_${i}_${j}\""
      j=$((j + 1))
    done
    # shellcheck disable=SC2086 # one name per word
    unset $CTR_BATCH_CARRIERS CTR_BATCH_CARRIERS
    # The stage's command: the next $words arguments.
    w=0
    for word do
      [ "$w" -lt "$words" ] || break
      [ "$w" -gt 0 ] || set --
      set -- "$@" "$word"
      w=$((w + 1))
    done
    exec "$@"
  )
  code=$?
  shift "$words"
  ended "$i" "$code" "$dir"
  [ "$code" -eq 0 ] || [ "$continues" = 1 ] || exit 0
  i=$((i + 1))
done
