import type { OutputHandler, OutputStream } from '../backend.js'
import { shellWord } from '../shell-word.js'
import { newTaskMarker, taskOutput } from '../task-frame.js'

/**
 * The main process of a container that runs stages: a shell reading commands on its
 * stdin, so that a job's turn is a write to a stream attached when the container was
 * started, not an exec (which costs the engine tens of milliseconds, more while it starts
 * other containers). It is PID 1 so that killing a stage (STAGE_KILL) spares it. When its
 * stdin closes (the run ended, or this process died) DRIVER_PRELUDE makes it idle as
 * `tail -f /dev/null`, as a container of the exec path does, so `--keep` keeps a running
 * container. An image without `/bin/sh` gets the exec path.
 */
export const DRIVER_ENTRYPOINT = ['/bin/sh', '-s']

/** The driver's first line: at the end of its stdin it becomes an idle process. */
export const DRIVER_PRELUDE = "trap 'exec tail -f /dev/null' EXIT\n"

/**
 * What kills a running stage, in an exec of its own: every process of the container but
 * PID 1 (the driver, which then reports the stage's exit, 137) and the exec itself. The
 * Engine API cannot kill an exec; without a driver, a stage's timeout kills the container.
 */
export const STAGE_KILL = ['/bin/sh', '-c', 'kill -9 -1']

/** Where the driver's shell lives: the engine is asked whether a new image has it. */
export const DRIVER_SHELL = '/bin/sh'

/**
 * The line that runs one command through the driver: `argv` in a subshell with `env`
 * exported and stdin from /dev/null (a stage must not read the driver's commands), then
 * the frame's exit line (task-frame.ts) on both streams. Every word is single-quoted, so
 * no user text is ever shell syntax here.
 */
export function driverCommand(marker: string, argv: readonly string[], env: readonly string[]) {
  const exports = env.length > 0 ? `export ${env.map(shellWord).join(' ')}; ` : ''
  const exit = `printf '%s exit %s\\n' ${shellWord(marker)} "$c"`
  return `(${exports}exec ${argv.map(shellWord).join(' ')}) </dev/null; c=$?; ${exit}; ${exit} >&2\n`
}

/** The socket under an attach stream, which a driver refs only while a command runs. */
export interface Reffable {
  ref?: () => void
  unref?: () => void
}

/**
 * One container's driver, over its attach stream: `run` writes a command and resolves to
 * its exit code once both streams passed its frame; one command at a time (`idle` says
 * whether another may go now). The owner feeds the demultiplexed output to `output` and
 * calls `end` when the stream ends: a command still running then rejects.
 */
export class StageDriver {
  private current:
    | {
        output: ReturnType<typeof taskOutput>
        done: (exitCode: number) => void
        fail: (error: unknown) => void
      }
    | undefined
  /** Settles when the running command does: what `settled` waits for. */
  private pending: Promise<unknown> = Promise.resolve()
  private alive = true
  /** Output handlers' waits not settled yet: while any is, the stream may be paused. */
  private waits = 0

  constructor(
    private readonly input: NodeJS.WritableStream,
    /** The attach socket: while no command runs, it keeps no process alive. */
    private readonly socket: Reffable
  ) {
    socket.unref?.()
    input.write(DRIVER_PRELUDE)
  }

  /** Whether a command can go now: the stream is open, not held back, and no command runs. */
  get idle(): boolean {
    return this.alive && this.current === undefined && this.waits === 0
  }

  /** Runs `argv` (with `env` added) in the container; resolves to its exit code. */
  run(argv: readonly string[], env: readonly string[], onOutput: OutputHandler): Promise<number> {
    if (!this.idle) return Promise.reject(new Error('the stage driver is busy or gone'))
    const marker = newTaskMarker()
    const exit = new Promise<number>((done, fail) => {
      this.current = { output: taskOutput(marker, onOutput), done, fail }
      this.socket.ref?.()
      this.input.write(driverCommand(marker, argv, env))
    })
    this.pending = exit.catch(() => undefined)
    return exit
  }

  /** Resolves once no command runs: at once when none does. */
  settled(): Promise<void> {
    return this.pending.then(() => undefined)
  }

  /** Whether a command runs now. */
  get running(): boolean {
    return this.current !== undefined
  }

  /** A chunk of the container's output: the running command's, else a leftover's. */
  output(stream: OutputStream, chunk: Buffer): void | Promise<void> {
    const current = this.current
    // A background process a finished command left behind: its output is nobody's.
    if (!current) return
    const wait = current.output.push(stream, chunk)
    if (wait) {
      // The stream is paused until it settles, and what its reader does meanwhile may be
      // the next command (reading a stage's OOM count): that one must take an exec.
      this.waits++
      void wait.finally(() => this.waits--)
    }
    const frame = current.output.frame()
    if (frame) {
      this.current = undefined
      this.socket.unref?.()
      current.done(frame.exitCode)
    }
    return wait
  }

  /** The stream ended (the container stopped, or the engine is gone). */
  end(error?: unknown): void {
    this.alive = false
    const current = this.current
    this.current = undefined
    if (!current) return
    current.output.flush()
    current.fail(error ?? new Error('its container stopped while it ran'))
  }

  /** Closes the driver's stdin: the container goes on idling, as `--keep` wants it. */
  close(): void {
    this.alive = false
    this.input.end()
  }
}
