import { CTR_ROOT } from '../../plan/container-paths.js'
import { shellWord } from '../shell-word.js'
import {
  TASK_SH,
  WORKSPACE_CLIENT_SH,
  WORKSPACE_GET_PY,
  WORKSPACE_PUT_PY
} from './scripts/assets.js'
import { WORKSPACE_URL } from './workspace-service.js'

/**
 * The Swarm API can neither exec into a task nor copy files out of one: a task's command
 * is wrapped so that it makes the run's folders first, and after the command prints,
 * framed by a random marker, what the stage left for the scheduler (its `output` and
 * `annotations` files, base64) and its exit status. `taskOutput` strips that frame from
 * the log stream before anyone sees it.
 *
 * The wrapper is scripts/task.sh. Frame, right after the command's own output (on the same line, when that did not end
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
  // With the workspace service, the task fetches the workspace first and sends back what
  // the command wrote (scripts/workspace-client.sh).
  const settings = options.workspace
    ? [
        `r=${shellWord(CTR_ROOT)}`,
        `u=${shellWord(WORKSPACE_URL)}`,
        `st_get_py=${shellWord(WORKSPACE_GET_PY)}`,
        `st_put_py=${shellWord(WORKSPACE_PUT_PY)}`,
        'ws=1',
        WORKSPACE_CLIENT_SH
      ]
    : ['ws=0\n']
  return ['sh', '-c', settings.join('\n') + TASK_SH, 'ctr-task', marker, ...command]
}
