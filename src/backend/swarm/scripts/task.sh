# shellcheck shell=sh
# A swarm task's command, wrapped (task-script.ts says what its frame holds): $1 is the
# frame's marker, the rest the command. With the run's workspace service (ws=1, and
# workspace-client.sh before this), the task fetches the workspace first and sends back
# what the command wrote; a task that cannot reach it fails (125). A task created before
# its turn first waits for its batch there.
# shellcheck disable=SC2154 # ws, r and the st_ functions come from what goes before
m=$1
shift
if [ "$ws" = 1 ] && [ -n "$CTR_TASK_BATCH" ]; then
  if ! st_batch; then
    printf "%s error could not fetch its batch from the run's workspace service\n%s exit 125\n" "$m" "$m"
    printf "%s exit 125\n" "$m" >&2
    exit 125
  fi
  # The batch is shell that sets the command (set --) and its environment (batchScript).
  eval "$(cat "$r/.ctr-batch")"
  rm -f "$r/.ctr-batch"
fi
# The workspace is the task's own: the run's folders are made in every task.
# shellcheck disable=SC2174 # the list holds every folder, parents first
printf "%s\n" "$CTR_TASK_DIRS" | while IFS= read -r d; do [ -z "$d" ] || mkdir -p -m 0777 "$d"; done
ws_err=
if [ "$ws" != 1 ]; then
  "$@"; c=$?
elif st_each st_in; then
  "$@"; c=$?
  st_each st_out || { ws_err="could not send what the task wrote to the run's workspace service"; [ $c -ne 0 ] || c=125; }
else
  ws_err="could not fetch the run's workspace from its service"; c=125
fi
printf "%s\n" "$CTR_TASK_STATE" | while IFS= read -r d; do
  for f in "$d/output" "$d/annotations"; do
    [ -s "$f" ] || continue; printf "%s file %s\n" "$m" "$f"; base64 < "$f" || exit 1
  done
done
# Artifacts, as `docker cp` would archive them: named from the path's last part.
printf "%s\n" "$CTR_TASK_KEEP" | while IFS= read -r b; do
  case $b in "") continue ;; /*) p=$b ;; .) p=$PWD ;; *) p=$PWD/$b ;; esac
  [ -e "$p" ] || continue; printf "%s archive %s\n" "$m" "$p"
  tar -C "$(dirname "$p")" -cf - "$(basename "$p")" | base64 || exit 1
done
printf "%s workdir %s\n" "$m" "$PWD"
[ -z "$ws_err" ] || printf "%s error %s\n" "$m" "$ws_err"
[ -z "$st_sent" ] || printf "%s sent%s\n" "$m" "$st_sent"
# The kernel's count of OOM kills in the task's memory cgroup (v1, then v2).
o=$(cat /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null | grep "^oom_kill " | head -1)
[ -z "$o" ] || printf "%s %s\n" "$m" "$o"
printf "%s exit %s\n" "$m" "$c"; printf "%s exit %s\n" "$m" "$c" >&2
exit $c
