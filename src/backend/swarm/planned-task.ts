import type { ContainerPlan } from '../../plan/container-plan.js'

/** A container of the scheduler's, which becomes a Swarm job when something runs in it. */
export interface PlannedTask {
  plan: ContainerPlan
  /** The service of its task, once created (and until removed). */
  service?: string
  /** Tasks run so far: each is a service of its own, named after the container. */
  runs: number
  /** Killed: a task in flight ends as killed. */
  killed: boolean
  /** The files its task's stages left, by absolute path. */
  files: Map<string, Buffer>
  /** Its last task's artifacts (tar archives) and working folder: see taskCommand. */
  archives: Map<string, Buffer>
  workdir?: string
  /** When its latest service was created: the schedule timeout of a service counts from it. */
  created?: number
  /** Its task's run, while one is under way: files come with its end. */
  running?: Promise<unknown>
  /** Someone waits for those files: the log stream must flow to bring them. */
  awaited: boolean
  /** The kernel's count of OOM kills in its task's cgroup, as the task's frame said. */
  oomKills?: number
  /** Networks its tasks join besides the plan's own: its job's services' network. */
  networks: Array<{ Target: string; Aliases: string[] }>
  /** Its task was created before its turn and waits for its batch (see prestart). */
  waiting?: { service: string; marker: string; batch: string }
  /** Started ahead of its turn: its task may be created before that turn. */
  started?: boolean
  /** That creation, while under way: exec waits for it. */
  prestarting?: Promise<void>
}

/** A container planned and not yet run. */
export function plannedTask(plan: ContainerPlan): PlannedTask {
  return {
    plan,
    runs: 0,
    killed: false,
    files: new Map(),
    archives: new Map(),
    awaited: false,
    networks: []
  }
}

/** Waits for the container's task to end, if one runs: what it left comes with its end. */
export async function taskEnd(task: PlannedTask): Promise<void> {
  if (!task.running) return
  task.awaited = true
  await task.running
}
