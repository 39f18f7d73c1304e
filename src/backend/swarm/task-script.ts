import { randomBytes } from 'node:crypto'
import path from 'node:path'
import type { OutputStream } from '../backend.js'
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
 * would hold the command's last line back from a live log until the task ends.
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

/** A marker no command prints by chance: random for each task. */
export function newTaskMarker(): string {
  return `::ctr-task-${randomBytes(12).toString('hex')}::`
}

/** What a task's frame said, once both streams have ended. */
export interface TaskFrame {
  /** Files the task's stages left, by absolute path. */
  files: Map<string, Buffer>
  /** Tar archives of the artifacts' folders and files that existed, by absolute path. */
  archives: Map<string, Buffer>
  /** The task's working folder, which relative artifacts start from. */
  workdir?: string
  exitCode: number
  /** What failed around the command (the workspace's hand-off), if anything. */
  error?: string
  /** The stores of the run's workspace service it sent files to (see WORKSPACE_CLIENT). */
  sent: string[]
  /** How many of its processes the kernel killed for memory, where the task could tell. */
  oomKills?: number
}

/**
 * A filter over a task's log stream: `push` hands on the command's own output (chunks as
 * they come, less any bytes that might begin the frame) and keeps the frame; `frame` is
 * the parsed frame once both streams reached their exit line, else undefined.
 */
export function taskOutput(
  marker: string,
  onOutput: (stream: OutputStream, chunk: Buffer) => void | Promise<void>
) {
  const start = Buffer.from(`${marker} `)
  const streams = {
    stdout: { held: Buffer.alloc(0), frame: undefined as Buffer | undefined },
    stderr: { held: Buffer.alloc(0), frame: undefined as Buffer | undefined }
  }
  const exitLine = new RegExp(`(?:^|\\n)${escape(marker)} exit (\\d+)\\n$`)
  return {
    push(stream: OutputStream, chunk: Buffer): void | Promise<void> {
      const state = streams[stream]
      if (state.frame) {
        state.frame = Buffer.concat([state.frame, chunk])
        return
      }
      const text = Buffer.concat([state.held, chunk])
      const at = text.indexOf(start)
      if (at >= 0) {
        state.held = Buffer.alloc(0)
        state.frame = text.subarray(at)
        return at > 0 ? onOutput(stream, text.subarray(0, at)) : undefined
      }
      // Bytes that could be the start of a marker cut across chunks wait for the next.
      const keep = partialSuffix(text, start)
      state.held = text.subarray(text.length - keep)
      const ready = text.subarray(0, text.length - keep)
      return ready.length > 0 ? onOutput(stream, ready) : undefined
    },
    /** Whether both streams have reached their exit line. */
    complete(): boolean {
      return [streams.stdout, streams.stderr].every(
        (s) => s.frame !== undefined && exitLine.test(s.frame.toString('latin1'))
      )
    },
    /** The parsed frame; undefined while the task's output is incomplete. */
    frame(): TaskFrame | undefined {
      if (!this.complete()) return undefined
      return parseFrame(marker, streams.stdout.frame!.toString('latin1'))
    },
    /** Hands on what was held back (the task ended without its frame: killed). */
    flush(): void {
      for (const name of ['stdout', 'stderr'] as const) {
        const state = streams[name]
        if (!state.frame && state.held.length > 0) void onOutput(name, state.held)
        state.held = Buffer.alloc(0)
      }
    }
  }
}

/** How many bytes at the end of `text` are a proper beginning of `start`. */
function partialSuffix(text: Buffer, start: Buffer): number {
  for (let n = Math.min(start.length - 1, text.length); n > 0; n--) {
    if (text.subarray(text.length - n).equals(start.subarray(0, n))) return n
  }
  return 0
}

/** The files and exit code of a stdout frame (`<m> file PATH`, base64 lines, `<m> exit N`). */
function parseFrame(marker: string, text: string): TaskFrame {
  const files = new Map<string, Buffer>()
  const archives = new Map<string, Buffer>()
  let workdir: string | undefined
  let exitCode = -1
  let error: string | undefined
  let sent: string[] = []
  let oomKills: number | undefined
  let current: { into: Map<string, Buffer>; path: string; lines: string[] } | undefined
  const close = () => {
    if (current) current.into.set(current.path, Buffer.from(current.lines.join(''), 'base64'))
    current = undefined
  }
  for (const line of text.split('\n')) {
    if (line.startsWith(`${marker} file `)) {
      close()
      current = { into: files, path: line.slice(marker.length + 6), lines: [] }
    } else if (line.startsWith(`${marker} archive `)) {
      close()
      const at = path.posix.normalize(line.slice(marker.length + 9))
      current = { into: archives, path: at, lines: [] }
    } else if (line.startsWith(`${marker} workdir `)) {
      close()
      workdir = line.slice(marker.length + 9)
    } else if (line.startsWith(`${marker} oom_kill `)) {
      close()
      oomKills = Number(line.slice(marker.length + 10))
    } else if (line.startsWith(`${marker} sent `)) {
      close()
      sent = line
        .slice(marker.length + 6)
        .split(' ')
        .filter(Boolean)
    } else if (line.startsWith(`${marker} error `)) {
      close()
      error = line.slice(marker.length + 7)
    } else if (line.startsWith(`${marker} exit `)) {
      close()
      exitCode = Number(line.slice(marker.length + 6))
    } else if (current) current.lines.push(line.trim())
  }
  return {
    files,
    archives,
    ...(workdir ? { workdir } : {}),
    exitCode,
    sent,
    ...(error ? { error } : {}),
    ...(oomKills === undefined ? {} : { oomKills })
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
