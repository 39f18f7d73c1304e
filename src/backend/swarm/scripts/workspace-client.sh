# shellcheck shell=sh
# The functions a swarm task uses to reach the run's workspace service (see
# workspace-service.ts). task-script.ts sets r (the run's root folder), u (the service's
# URL) and st_get_py, st_put_py (workspace-get.py, workspace-put.py) before them.
#
# st_pull STORE DIR MARK fetches a store into DIR; st_push STORE DIR MARK sends the files
# its command wrote there. A file counts as written when its mtime is newer than MARK's:
# fetched files are set to the first second of 1970, so a job's writes (which set the
# time to now) are told from what it fetched without comparing contents, and jobs that
# run at once send only their own files. Deletions and empty folders are not sent. Any of
# curl, wget or python3 in the image does the HTTP; an image with none fails with a line
# saying so. st_mark alone stands for st_pull while no task has sent anything to that
# store: the first jobs of a run do not wait for the service (a new overlay endpoint
# takes the other nodes a few seconds to learn). st_sent lists the stores sent to.
# shellcheck disable=SC2154 # r, u, st_get_py and st_put_py: see above
st_sent=
st_none() {
  echo "ctr-pipeline: the image has none of curl, wget and python3, one of which a swarm task needs to reach the run workspace" >&2
  return 1
}
st_get() {
  if command -v curl >/dev/null 2>&1; then curl -fsS "$u/$1"
  elif command -v wget >/dev/null 2>&1; then wget -qO- "$u/$1"
  elif command -v python3 >/dev/null 2>&1; then python3 -c "$st_get_py" "$u/$1"
  else st_none; fi
}
st_put() {
  if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null -H "Content-Type: application/x-tar" --data-binary "@$1" "$u/push?$2"
  elif command -v wget >/dev/null 2>&1; then base64 "$1" > "$1.b64" && wget -qO /dev/null --post-file="$1.b64" "$u/push?$2&b64"
  elif command -v python3 >/dev/null 2>&1; then python3 -c "$st_put_py" "$u/push?$2" "$1"
  else st_none; fi
}
# The service may still be starting when the first task asks.
st_pull() {
  n=0
  until st_get "pull?$1" > "$r/.ctr-pull.tar"; do n=$((n+1)); [ $n -lt 5 ] || return 1; sleep 1; done
  mkdir -p "$2" && tar x -C "$2" -f "$r/.ctr-pull.tar" && rm -f "$r/.ctr-pull.tar" && st_mark "$2" "$3"
}
st_mark() {
  mkdir -p "$1" && find "$1" -exec touch -c -d "1970-01-01 00:00:01" {} + && touch -d "1970-01-01 00:00:02" "$2"
}
st_push() {
  (cd "$2" && find . -newer "$3" ! -type d > "$r/.ctr-push.list") || return 1
  [ -s "$r/.ctr-push.list" ] || return 0
  # BusyBox's tar reads no file list (-T): the names go as arguments, one per line.
  # shellcheck disable=SC2046 # split at newlines only, and not globbed (set -f)
  (cd "$2" && IFS="
" && set -f && set -- $(cat "$r/.ctr-push.list") && tar c -f "$r/.ctr-push.tar" --no-recursion "$@") && st_send "$r/.ctr-push.tar" "$1" && st_sent="$st_sent $1"
}
# A first job never waited for the service (st_mark): its node may not know the
# service's address yet when the job ends. The service takes the same tar again as once.
st_send() {
  st_n=0
  until st_put "$1" "$2"; do st_n=$((st_n+1)); [ $st_n -lt 10 ] || return 1; sleep 1; done
}
# CTR_TASK_STORES: a line per store, `STORE EMPTY rw|ro DIR` (EMPTY: 1 while none sent to it).
st_each() {
  while IFS=" " read -r s e a d; do [ -z "$s" ] || "$1" "$s" "$e" "$a" "$d" < /dev/null || return 1; done <<ST
$CTR_TASK_STORES
ST
}
st_in() { if [ "$2" = 1 ]; then st_mark "$4" "$r/.ctr-pulled.$1"; else st_pull "$1" "$4" "$r/.ctr-pulled.$1"; fi; }
st_out() { [ "$3" = ro ] || st_push "$1" "$4" "$r/.ctr-pulled.$1"; }
# A task created before its turn asks the workspace container for its batch
# (CTR_TASK_BATCH, a random id) until the backend has put it there, for about 30 s.
st_batch() {
  f=0
  until [ -s "$r/.ctr-batch" ]; do
    st_get "batch?$CTR_TASK_BATCH" > "$r/.ctr-batch" && continue
    f=$((f+1)); [ $f -lt 30 ] || break; sleep 1
  done
  [ -s "$r/.ctr-batch" ]
}
