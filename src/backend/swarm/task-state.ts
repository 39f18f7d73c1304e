import { setTimeout as sleep } from 'node:timers/promises'
import type { ContainerHealth } from '../backend.js'
import type { EngineConnection } from '../engine/connection.js'
import type { NodeWatch } from './node-watch.js'
import type { PlannedTask } from './planned-task.js'

/** How often a running task's state is read: its end is seen within this. */
const POLL_MS = 100

/** Task states before it runs: the schedule timeout counts while a task is in one. */
export const WAITING = new Set([
  'new',
  'pending',
  'assigned',
  'accepted',
  'preparing',
  'ready',
  'starting'
])

/** What the Engine API lists of a task. */
interface SwarmTask {
  NodeID?: string
  Status: { State: string; Message?: string; Err?: string; ContainerStatus?: { ExitCode?: number } }
}

/** The state of a service's latest task, and the Swarm's words for it. */
export async function taskState(engine: EngineConnection, service: string) {
  const filters = JSON.stringify({ service: [service] })
  const tasks = (await engine.call('list tasks', (o) =>
    engine.docker.listTasks({ filters, ...o })
  )) as SwarmTask[]
  const current = tasks.at(-1)
  const state = current?.Status.State ?? 'new'
  return {
    state,
    reason: current?.Status.Err || current?.Status.Message || state,
    exitCode: current?.Status.ContainerStatus?.ExitCode,
    nodeId: current?.NodeID
  }
}

/**
 * Polls a task's state until it ends, resolving to its exit code (137 once killed or
 * removed). A task no node starts within the schedule timeout, one the swarm will not
 * run, or one whose node goes down fails with the swarm's own reason.
 */
export async function waitForEnd(
  engine: EngineConnection,
  nodes: NodeWatch,
  task: PlannedTask,
  service: string,
  scheduleTimeoutMs: number
): Promise<number> {
  const deadline = Date.now() + scheduleTimeoutMs
  for (;;) {
    // Killed, or removed after its run failed: it is over either way.
    if (task.killed || !task.service) return 137
    const { state, reason, exitCode, nodeId } = await taskState(engine, service)
    if ((state === 'complete' || state === 'failed') && exitCode !== undefined) return exitCode
    if (state === 'rejected' || state === 'failed' || state === 'orphaned' || state === 'shutdown')
      throw notRun(state, reason)
    if (WAITING.has(state) && Date.now() > deadline)
      throw notStarted(scheduleTimeoutMs, state, reason)
    if (state === 'running' && nodeId) {
      const down = (await nodes.down()).get(nodeId)
      if (down) throw new Error(`its node ${down} went down while it ran`)
    }
    await sleep(POLL_MS)
  }
}

/** A task still waiting for a node when the schedule timeout is up, in the Swarm's words. */
export function notStarted(scheduleTimeoutMs: number, state: string, reason: string): Error {
  return new Error(
    `no node of the swarm started it within ${scheduleTimeoutMs / 1000} s (task ${state}: ${reason})`
  )
}

/** A task the Swarm would not run (or ended before its command), in the Swarm's words. */
export function notRun(state: string, reason: string): Error {
  return new Error(`the swarm did not run it (task ${state}): ${reason}`)
}

/**
 * A service's state from its task's: `starting` until the task runs (the Swarm holds a
 * task with a health check there until the check passes, and fails it when the check
 * does), its exit once it ends. A task the Swarm will not run, or that no node starts
 * within the schedule timeout, is an Error with the Swarm's reason.
 */
export async function serviceHealth(
  engine: EngineConnection,
  task: PlannedTask,
  scheduleTimeoutMs: number
): Promise<ContainerHealth> {
  if (!task.service) return { running: false, exitCode: 137, health: 'none' }
  const { state, reason, exitCode } = await taskState(engine, task.service)
  const checked = task.plan.healthcheck !== undefined
  if (state === 'running')
    return { running: true, exitCode: 0, health: checked ? 'healthy' : 'none' }
  if (WAITING.has(state)) {
    if (Date.now() - (task.created ?? 0) > scheduleTimeoutMs)
      throw notStarted(scheduleTimeoutMs, state, reason)
    return { running: true, exitCode: 0, health: 'starting' }
  }
  // The Swarm kills a task whose check fails ("dockerexec: unhealthy container"); what
  // the check printed stays on the node.
  if (checked && /unhealthy/i.test(reason))
    return { running: true, exitCode: 0, health: 'unhealthy' }
  if ((state === 'complete' || state === 'failed') && exitCode !== undefined)
    return { running: false, exitCode, health: 'none' }
  throw notRun(state, reason)
}
