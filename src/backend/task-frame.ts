import { randomBytes } from 'node:crypto'
import path from 'node:path'
import type { OutputStream } from './backend.js'

/*
 * The frame a backend's wrapper prints after a command's own output, on both streams,
 * so the output stream itself says where a command ended and how: the Swarm backend's
 * task script (swarm/task-script.ts) and the docker backend's stage driver
 * (docker/stage-driver.ts) print it, `taskOutput` reads it. Its lines, each starting
 * with a random marker: `<m> file PATH` and `<m> archive PATH` followed by base64 lines,
 * `<m> workdir PATH`, `<m> error MESSAGE`, `<m> sent STORE...`, `<m> oom_kill N`, and
 * last `<m> exit CODE` (on stderr only that).
 */

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
    stdout: { held: Buffer.alloc(0) as Buffer, frame: undefined as Buffer | undefined },
    stderr: { held: Buffer.alloc(0) as Buffer, frame: undefined as Buffer | undefined }
  }
  const exitLine = new RegExp(`(?:^|\\n)${escape(marker)} exit (\\d+)\\n$`)
  return {
    push(stream: OutputStream, chunk: Buffer): void | Promise<void> {
      const state = streams[stream]
      if (state.frame) {
        state.frame = Buffer.concat([state.frame, chunk])
        return
      }
      // Nothing held is the rule: the chunk itself, not a copy of it.
      const text = state.held.length > 0 ? Buffer.concat([state.held, chunk]) : chunk
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
  const from = Math.max(0, text.length - (start.length - 1))
  // The rule for a log: no byte of the tail is the marker's first, so nothing can begin it.
  if (text.indexOf(start[0], from) === -1) return 0
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
