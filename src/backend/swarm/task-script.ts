import { BATCH_CLIENT, WORKSPACE_CLIENT } from './workspace-service.js'

/**
 * The Swarm API can neither exec into a task nor copy files out of one: a task's command
 * is wrapped so that it makes the run's folders first, and after the command prints,
 * framed by a random marker, what the stage left for the scheduler (its `output` and
 * `annotations` files, base64) and its exit status. `taskOutput` strips that frame from
 * the log stream before anyone sees it.
 *
 * Frame, right after the command's own output (on the same line, when that did not end
 * with a newline): on stdout `<m> file PATH\n<base64>...` per file, `<m> error MESSAGE\n`
 * when the workspace's hand-off failed, `<m> sent STORE...\n` when it sent files, `<m> archive PATH\n`
 * and a base64 tar per artifact folder or file that exists (`CTR_TASK_KEEP`, relative ones
 * from the working folder), `<m> workdir PATH\n`, `<m> oom_kill N\n` (the kernel's count of
 * OOM kills in its cgroup), then `<m> exit CODE\n`;
 * on stderr `<m> exit CODE\n`. Both streams end with their exit line, so the reader knows
 * it has read all of the task's logs. No newline goes before the frame: one held back
 * would hold the command's last line back from a live log until the task ends. The
 * frame is read by `taskOutput` (../task-frame.ts), which the docker backend's stage
 * driver shares.
 */
export function taskCommand(
  marker: string,
  command: readonly string[],
  options: { workspace: boolean } = { workspace: false }
): string[] {
  // With the workspace service (see WORKSPACE_CLIENT), the task fetches the workspace
  // first and sends back what the command wrote; a task that cannot reach it fails (125).
  // A task created before its turn first waits for its batch there (BATCH_CLIENT).
  const client = options.workspace ? [WORKSPACE_CLIENT, BATCH_CLIENT] : []
  const run = options.workspace
    ? [
        'if st_each st_in; then',
        '  "$@"; c=$?',
        '  st_each st_out || { ws_err="could not send what the task wrote to the run\'s workspace service"; [ $c -ne 0 ] || c=125; }',
        'else ws_err="could not fetch the run\'s workspace from its service"; c=125; fi'
      ]
    : ['"$@"; c=$?']
  const script = [
    'm=$1; shift',
    ...client,
    // The workspace is the task's own: the run's folders are made in every task.
    'printf "%s\\n" "$CTR_TASK_DIRS" | while IFS= read -r d; do [ -z "$d" ] || mkdir -p -m 0777 "$d"; done',
    ...run,
    'printf "%s\\n" "$CTR_TASK_STATE" | while IFS= read -r d; do',
    '  for f in "$d/output" "$d/annotations"; do',
    '    [ -s "$f" ] || continue; printf "%s file %s\\n" "$m" "$f"; base64 < "$f" || exit 1',
    '  done',
    'done',
    // Artifacts, as `docker cp` would archive them: named from the path's last part.
    'printf "%s\\n" "$CTR_TASK_KEEP" | while IFS= read -r b; do',
    '  case $b in "") continue ;; /*) p=$b ;; .) p=$PWD ;; *) p=$PWD/$b ;; esac',
    '  [ -e "$p" ] || continue; printf "%s archive %s\\n" "$m" "$p"',
    '  tar -C "$(dirname "$p")" -cf - "$(basename "$p")" | base64 || exit 1',
    'done',
    'printf "%s workdir %s\\n" "$m" "$PWD"',
    '[ -z "$ws_err" ] || printf "%s error %s\\n" "$m" "$ws_err"',
    '[ -z "$st_sent" ] || printf "%s sent%s\\n" "$m" "$st_sent"',
    // The kernel's count of OOM kills in the task's memory cgroup (v1, then v2).
    'o=$(cat /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null | grep "^oom_kill " | head -1)',
    '[ -z "$o" ] || printf "%s %s\\n" "$m" "$o"',
    'printf "%s exit %s\\n" "$m" "$c"; printf "%s exit %s\\n" "$m" "$c" >&2',
    'exit $c'
  ].join('\n')
  return ['sh', '-c', script, 'ctr-task', marker, ...command]
}
