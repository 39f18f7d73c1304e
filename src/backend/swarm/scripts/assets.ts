// Made by scripts/inline-assets.mjs from the programs in this folder: edit those, then run
// `npm run assets`. `npm run lint` fails when this file and they differ.

/** src/backend/swarm/scripts/task.sh, as it runs. */
export const TASK_SH =
  'm=$1\nshift\nif [ "$ws" = 1 ] && [ -n "$CTR_TASK_BATCH" ]; then\n  if ! st_batch; then\n    printf "%s error could not fetch its batch from the run\'s workspace service\\n%s exit 125\\n" "$m" "$m"\n    printf "%s exit 125\\n" "$m" >&2\n    exit 125\n  fi\n  eval "$(cat "$r/.ctr-batch")"\n  rm -f "$r/.ctr-batch"\nfi\nprintf "%s\\n" "$CTR_TASK_DIRS" | while IFS= read -r d; do [ -z "$d" ] || mkdir -p -m 0777 "$d"; done\nws_err=\nif [ "$ws" != 1 ]; then\n  "$@"; c=$?\nelif st_each st_in; then\n  "$@"; c=$?\n  st_each st_out || { ws_err="could not send what the task wrote to the run\'s workspace service"; [ $c -ne 0 ] || c=125; }\nelse\n  ws_err="could not fetch the run\'s workspace from its service"; c=125\nfi\nprintf "%s\\n" "$CTR_TASK_STATE" | while IFS= read -r d; do\n  for f in "$d/output" "$d/annotations"; do\n    [ -s "$f" ] || continue; printf "%s file %s\\n" "$m" "$f"; base64 < "$f" || exit 1\n  done\ndone\nprintf "%s\\n" "$CTR_TASK_KEEP" | while IFS= read -r b; do\n  case $b in "") continue ;; /*) p=$b ;; .) p=$PWD ;; *) p=$PWD/$b ;; esac\n  [ -e "$p" ] || continue; printf "%s archive %s\\n" "$m" "$p"\n  tar -C "$(dirname "$p")" -cf - "$(basename "$p")" | base64 || exit 1\ndone\nprintf "%s workdir %s\\n" "$m" "$PWD"\n[ -z "$ws_err" ] || printf "%s error %s\\n" "$m" "$ws_err"\n[ -z "$st_sent" ] || printf "%s sent%s\\n" "$m" "$st_sent"\no=$(cat /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null | grep "^oom_kill " | head -1)\n[ -z "$o" ] || printf "%s %s\\n" "$m" "$o"\nprintf "%s exit %s\\n" "$m" "$c"; printf "%s exit %s\\n" "$m" "$c" >&2\nexit $c\n'

/** src/backend/swarm/scripts/workspace-batch.sh, as it runs. */
export const WORKSPACE_BATCH_SH =
  '#!/bin/sh\nid=$QUERY_STRING; case $id in "" | *[!0-9a-f]*) exit 1 ;; esac\nf=/data/.batch/$id; n=0\nwhile [ ! -f "$f.ok" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n[ ! -f "$f.ok" ] || { cat "$f"; rm -f "$f" "$f.ok"; }\n'

/** src/backend/swarm/scripts/workspace-client.sh, as it runs. */
export const WORKSPACE_CLIENT_SH =
  'st_sent=\nst_none() {\n  echo "ctr-pipeline: the image has none of curl, wget and python3, one of which a swarm task needs to reach the run workspace" >&2\n  return 1\n}\nst_get() {\n  if command -v curl >/dev/null 2>&1; then curl -fsS "$u/$1"\n  elif command -v wget >/dev/null 2>&1; then wget -qO- "$u/$1"\n  elif command -v python3 >/dev/null 2>&1; then python3 -c "$st_get_py" "$u/$1"\n  else st_none; fi\n}\nst_put() {\n  if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null -H "Content-Type: application/x-tar" --data-binary "@$1" "$u/push?$2"\n  elif command -v wget >/dev/null 2>&1; then base64 "$1" > "$1.b64" && wget -qO /dev/null --post-file="$1.b64" "$u/push?$2&b64"\n  elif command -v python3 >/dev/null 2>&1; then python3 -c "$st_put_py" "$u/push?$2" "$1"\n  else st_none; fi\n}\nst_pull() {\n  n=0\n  until st_get "pull?$1" > "$r/.ctr-pull.tar"; do n=$((n+1)); [ $n -lt 5 ] || return 1; sleep 1; done\n  mkdir -p "$2" && tar x -C "$2" -f "$r/.ctr-pull.tar" && rm -f "$r/.ctr-pull.tar" && st_mark "$2" "$3"\n}\nst_mark() {\n  mkdir -p "$1" && find "$1" -exec touch -c -d "1970-01-01 00:00:01" {} + && touch -d "1970-01-01 00:00:02" "$2"\n}\nst_push() {\n  (cd "$2" && find . -newer "$3" ! -type d > "$r/.ctr-push.list") || return 1\n  [ -s "$r/.ctr-push.list" ] || return 0\n  (cd "$2" && IFS="\n" && set -f && set -- $(cat "$r/.ctr-push.list") && tar c -f "$r/.ctr-push.tar" --no-recursion "$@") && st_send "$r/.ctr-push.tar" "$1" && st_sent="$st_sent $1"\n}\nst_send() {\n  st_n=0\n  until st_put "$1" "$2"; do st_n=$((st_n+1)); [ $st_n -lt 10 ] || return 1; sleep 1; done\n}\nst_each() {\n  while IFS=" " read -r s e a d; do [ -z "$s" ] || "$1" "$s" "$e" "$a" "$d" < /dev/null || return 1; done <<ST\n$CTR_TASK_STORES\nST\n}\nst_in() { if [ "$2" = 1 ]; then st_mark "$4" "$r/.ctr-pulled.$1"; else st_pull "$1" "$4" "$r/.ctr-pulled.$1"; fi; }\nst_out() { [ "$3" = ro ] || st_push "$1" "$4" "$r/.ctr-pulled.$1"; }\nst_batch() {\n  f=0\n  until [ -s "$r/.ctr-batch" ]; do\n    st_get "batch?$CTR_TASK_BATCH" > "$r/.ctr-batch" && continue\n    f=$((f+1)); [ $f -lt 30 ] || break; sleep 1\n  done\n  [ -s "$r/.ctr-batch" ]\n}\n'

/** src/backend/swarm/scripts/workspace-get.py, as it runs. */
export const WORKSPACE_GET_PY =
  'import shutil, sys, urllib.request\nshutil.copyfileobj(urllib.request.urlopen(sys.argv[1], timeout=600), sys.stdout.buffer)\n'

/** src/backend/swarm/scripts/workspace-pull.sh, as it runs. */
export const WORKSPACE_PULL_SH =
  'printf "Content-Type: application/x-tar\\r\\n\\r\\n"\nexec tar c -C "/data/$s" .\n'

/** src/backend/swarm/scripts/workspace-push.sh, as it runs. */
export const WORKSPACE_PUSH_SH =
  'if [ "$s" != "$QUERY_STRING" ]; then base64 -d | tar x -C "/data/$s" -f - >&2 || exit 1\nelse tar x -C "/data/$s" -f - >&2 || exit 1; fi\nprintf "Content-Type: text/plain\\r\\n\\r\\nok\\n"\n'

/** src/backend/swarm/scripts/workspace-put.py, as it runs. */
export const WORKSPACE_PUT_PY =
  'import os, sys, urllib.request\nrequest = urllib.request.Request(\n    sys.argv[1],\n    data=open(sys.argv[2], "rb"),\n    headers={"Content-Length": str(os.path.getsize(sys.argv[2])), "Content-Type": "application/x-tar"},\n)\nurllib.request.urlopen(request, timeout=600).read()\n'

/** src/backend/swarm/scripts/workspace-start.sh, as it runs. */
export const WORKSPACE_START_SH =
  'mkdir -p /srv/cgi-bin /data/.batch\nprintf "%s" "$PULL" > /srv/cgi-bin/pull\nprintf "%s" "$PUSH" > /srv/cgi-bin/push\nprintf "%s" "$BATCH" > /srv/cgi-bin/batch\nchmod 755 /srv/cgi-bin/pull /srv/cgi-bin/push /srv/cgi-bin/batch\nexec httpd -f -p "$PORT" -h /srv\n'

/** src/backend/swarm/scripts/workspace-store.sh, as it runs. */
export const WORKSPACE_STORE_SH =
  '#!/bin/sh\ns=${QUERY_STRING%&b64}\ncase $s in w) ;; v|v*[!0-9]*) exit 1 ;; v*) ;; *) exit 1 ;; esac\nmkdir -p "/data/$s" || exit 1\n'
