import { setTimeout as sleep } from 'node:timers/promises'
import type { OutputHandler } from '../backend.js'
import type { EngineConnection } from '../engine/connection.js'
import type { PlannedTask } from './planned-task.js'

/**
 * How long a task's logs may lag behind its end before the reader stops waiting: the
 * Swarm's log stream falls seconds behind on a busy manager (3 s lost a task's frame, and
 * with it the job's artifacts, in CI). The wait ends as soon as the frame is in.
 */
export const LOG_GRACE_MS = 15_000

/**
 * Streams a created task's logs to `onOutput` until the task has ended (`ended`) and
 * `logsComplete` says all its output arrived, or LOG_GRACE_MS after its end; resolves to
 * what `ended` resolved to, its exit code.
 */
export async function followTaskLogs(
  engine: EngineConnection,
  task: PlannedTask,
  service: string,
  onOutput: OutputHandler,
  logsComplete: () => boolean,
  ended: () => Promise<number>
): Promise<number> {
  // A stream: no timeout of its own (it ends with the task, or when the engine is lost).
  const logs = (await engine.docker
    .getService(service)
    .logs({ follow: true, stdout: true, stderr: true })
    .catch((e: unknown) => Promise.reject(engine.lostOr(e)))) as NodeJS.ReadableStream
  const pumped = engine.pump(logs, onOutput).catch(() => undefined)
  try {
    const exitCode = await ended()
    const deadline = Date.now() + LOG_GRACE_MS
    while (!logsComplete() && Date.now() < deadline && !task.killed) await sleep(20)
    return exitCode
  } finally {
    ;(logs as unknown as { destroy(): void }).destroy()
    await pumped
  }
}
