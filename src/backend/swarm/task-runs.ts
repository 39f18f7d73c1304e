import { randomBytes } from 'node:crypto'
import type { ContainerPlan } from '../../plan/container-plan.js'
import type { RegistryCredentials } from '../../plan/image-plan.js'
import { WORKSPACE_DIR } from '../../plan/container-paths.js'
import { artifactBase } from '../../pipeline/artifact-patterns.js'
import type { ContainerExit, OutputHandler } from '../backend.js'
import { ignoreMissing, type EngineConnection } from '../engine/connection.js'
import { newTaskMarker, taskOutput, type TaskFrame } from '../task-frame.js'
import { NodeWatch } from './node-watch.js'
import type { PlannedTask } from './planned-task.js'
import { serviceBody, type ServiceBody } from './service-body.js'
import { followTaskLogs, LOG_GRACE_MS } from './task-logs.js'
import { taskCommand } from './task-script.js'
import { waitForEnd } from './task-state.js'
import type { WorkspaceContainer } from './workspace-container.js'
import { WORKSPACE_STORE } from './workspace-service.js'

/** The Engine API's longest service name. */
const MAX_SERVICE_NAME = 63

/**
 * The tasks of a run's containers on the swarm (see SwarmBackend): each run in a
 * container is a service of one task, created (ahead of its turn, where it can), followed
 * through its logs to its end, its frame kept, and removed before the next.
 */
export class TaskRuns {
  /** Registry credentials by image: they go with a service request, never in its spec. */
  readonly credentials = new Map<string, RegistryCredentials>()
  /** The images the run built, by their run tag: their references by digest. */
  readonly pushed = new Map<string, string>()
  /** The run's folders, made in every task. */
  readonly dirs = new Set<string>()
  /** The file's named volumes the workspace service keeps, by engine name: store and key. */
  readonly served = new Map<string, { store: string; key: string }>()
  /** The stores tasks have sent files to: tasks created from now on fetch those. */
  private readonly written = new Set<string>()
  /** A task's frame has come back: the nodes reach the workspace, tasks may wait on it. */
  private framedYet = false
  private readonly nodes: NodeWatch

  constructor(
    private readonly engine: EngineConnection,
    private readonly workspace: WorkspaceContainer,
    /** How long a task may wait for a node (pending, pulling) before its job fails. */
    private readonly scheduleTimeoutMs: number,
    /** The run's containers, by id. */
    private readonly tasks: ReadonlyMap<string, PlannedTask>
  ) {
    this.nodes = new NodeWatch(engine)
  }

  /** Whether a task's frame has come back yet: tasks are created ahead only from then on. */
  get framed(): boolean {
    return this.framedYet
  }

  /**
   * Creates a job's first task before its turn (the scheduler starts containers ahead),
   * so that the node has it attached to the run's network and running by then: it waits
   * on the workspace container for its batch, which exec puts there. Only once a task's
   * frame has come back: before that, the nodes may not know the workspace's address yet,
   * and the first jobs would wait to learn it where they need nothing from it.
   */
  prestart(task: PlannedTask): Promise<void> {
    if (task.runs > 0 || task.prestarting) return task.prestarting ?? Promise.resolve()
    task.prestarting = this.createWaiting(task).finally(() => (task.prestarting = undefined))
    return task.prestarting
  }

  /** Containers started before the first frame came back get their waiting task now. */
  private prestartStarted() {
    for (const task of this.tasks.values())
      if (task.started && task.runs === 0 && !task.killed)
        // If it fails, the job's turn creates its task as usual.
        this.prestart(task).catch(() => undefined)
  }

  private async createWaiting(task: PlannedTask) {
    const marker = newTaskMarker()
    const batch = randomBytes(12).toString('hex')
    const spec = this.spec(task, {
      command: taskCommand(marker, [], { workspace: true }),
      env: [`CTR_TASK_BATCH=${batch}`]
    })
    await this.createService(task, spec)
    task.waiting = { service: spec.Name, marker, batch }
  }

  /** A job that runs its own command: a task of its own, whose logs have no frame. */
  async runCommand(task: PlannedTask, onOutput: OutputHandler): Promise<ContainerExit> {
    const spec = this.spec(task, { env: [] })
    // Its own command has no frame: its logs are read until they go quiet after its end.
    let last = Date.now()
    const exitCode = await this.runTask(
      task,
      spec,
      (stream, chunk) => {
        last = Date.now()
        return onOutput(stream, chunk)
      },
      () => Date.now() - last > 300
    )
    return { exitCode, oomKilled: false }
  }

  /**
   * Runs a command in the container's next task (its waiting one, if it was created
   * ahead), which sends back the files its stages left in `stateDirs`.
   */
  async runStages(
    task: PlannedTask,
    cmd: string[],
    env: string[],
    stateDirs: string[],
    onOutput: OutputHandler
  ): Promise<number> {
    // Its turn has come: no task is created ahead for it from now on.
    task.started = false
    await task.prestarting?.catch(() => undefined)
    const taskEnv = [
      ...env,
      `CTR_TASK_DIRS=${[...this.dirs].join('\n')}`,
      `CTR_TASK_STATE=${stateDirs.join('\n')}`,
      `CTR_TASK_KEEP=${artifactBases(task.plan).join('\n')}`,
      `CTR_TASK_STORES=${this.stores(task.plan).join('\n')}`
    ]
    const { waiting } = task
    task.waiting = undefined
    const prestarted = waiting && task.service === waiting.service && !task.killed
    const marker = prestarted ? waiting.marker : newTaskMarker()
    // A batch reads a stage's files as the stage ends, holding its output back until
    // they are read; here they come at the task's end, so the stream then flows freely.
    const output = taskOutput(marker, (stream, chunk) => {
      const wait = onOutput(stream, chunk)
      return task.awaited ? undefined : wait
    })
    const ran = prestarted
      ? this.workspace
          .putBatch(waiting.batch, cmd, taskEnv)
          .then(() => this.followTask(task, waiting.service, output.push, () => output.complete()))
      : this.runTask(
          task,
          this.spec(task, { command: taskCommand(marker, cmd, { workspace: true }), env: taskEnv }),
          output.push,
          () => output.complete()
        )
    // Without the workspace container the task cannot start its command: its failure is why.
    const running = this.keepFrame(
      task,
      output,
      Promise.race([ran, this.workspace.ready().then(() => ran)])
    )
    task.running = running.catch(() => undefined)
    return running
  }

  /**
   * Keeps what a task's frame said once it has run (files, OOM kills, whether it sent
   * files to the workspace); a hand-off that failed around its command is its failure.
   */
  private async keepFrame(
    task: PlannedTask,
    output: ReturnType<typeof taskOutput>,
    ran: Promise<number>
  ): Promise<number> {
    let frame: TaskFrame | undefined
    let exitCode: number
    try {
      exitCode = await ran
    } finally {
      output.flush()
      frame = output.frame()
      task.files = frame?.files ?? new Map()
      task.archives = frame?.archives ?? new Map()
      task.workdir = frame?.workdir
      task.oomKills = frame?.oomKills
      for (const store of frame?.sent ?? []) this.written.add(store)
      if (frame && !frame.error && !this.framedYet) {
        this.framedYet = true
        this.prestartStarted()
      }
      task.running = undefined
      task.awaited = false
    }
    if (frame?.error) throw new Error(frame.error)
    // A command that ended well always prints its frame: without it, what the task left
    // (outputs, files, artifacts) is lost, and the job must not pass as if it had none.
    if (!frame && exitCode === 0 && !task.killed)
      throw new Error(
        `the swarm did not return the task's logs within ${LOG_GRACE_MS / 1000} s of its end: its outputs and artifacts are lost`
      )
    return exitCode
  }

  /**
   * The stores a job's task fetches and sends back, as CTR_TASK_STORES lines (see
   * WORKSPACE_CLIENT): the workspace, and each named volume the workspace service keeps.
   */
  private stores(plan: ContainerPlan): string[] {
    const line = (store: string, access: string, dir: string) =>
      `${store} ${this.written.has(store) ? 0 : 1} ${access} ${dir}`
    return [
      line(WORKSPACE_STORE, 'rw', WORKSPACE_DIR),
      ...plan.mounts.flatMap((m) => {
        const store = m.type === 'volume' ? this.served.get(m.source)?.store : undefined
        return store && m.type === 'volume' ? [line(store, m.readOnly ? 'ro' : 'rw', m.target)] : []
      })
    ]
  }

  /** The spec of a container's next task: its first is named after it, the next numbered. */
  spec(task: PlannedTask, run: { command?: string[]; env: string[] }): ServiceBody {
    // Only a job's stages are wrapped to fetch what the workspace service keeps.
    const served = task.plan.mounts.find((m) => m.type === 'volume' && this.served.has(m.source))
    if (served?.type === 'volume' && !run.command)
      throw new Error(
        `volume '${this.served.get(served.source)?.key}' (mounted at ${served.target}) reaches a swarm task through the run's workspace service, which only a job's stages use: give the job stages, make the volume 'external: true', or run with --backend docker`
      )
    const n = ++task.runs
    const suffix = n === 1 ? '' : `-${n}`
    const name = task.plan.name.slice(0, MAX_SERVICE_NAME - suffix.length) + suffix
    const image = this.pushed.get(task.plan.image.ref)
    return serviceBody(task.plan, {
      name,
      ...(image ? { image } : {}),
      networks: task.networks,
      served: new Set(this.served.keys()),
      ...run
    })
  }

  /**
   * Creates the task's service, streams its logs, and waits for its end: resolves to its
   * exit code once `logsComplete` says all its output arrived (or LOG_GRACE_MS after its
   * end). A task no node starts within the schedule timeout, or one the swarm rejects (no
   * such image, no node that fits), fails with the swarm's own reason.
   */
  private async runTask(
    task: PlannedTask,
    spec: ServiceBody,
    onOutput: OutputHandler,
    logsComplete: () => boolean
  ): Promise<number> {
    await this.createService(task, spec)
    return this.followTask(task, spec.Name, onOutput, logsComplete)
  }

  /** Streams a created task's logs and waits for its end: see runTask. */
  private followTask(
    task: PlannedTask,
    service: string,
    onOutput: OutputHandler,
    logsComplete: () => boolean
  ): Promise<number> {
    return followTaskLogs(this.engine, task, service, onOutput, logsComplete, () =>
      waitForEnd(this.engine, this.nodes, task, service, this.scheduleTimeoutMs)
    )
  }

  /** Creates a task's service, with the credentials for its image (never in its spec). */
  async createService(task: PlannedTask, spec: ServiceBody) {
    // The task before it (over: stages run one after another) has said all it had to.
    await this.removeService(task)
    const auth = this.credentials.get(spec.TaskTemplate.ContainerSpec.Image)
    await this.engine.call('create service', (o) =>
      auth
        ? this.engine.docker.createService(auth, { ...spec, abortSignal: o.abortSignal } as never)
        : this.engine.docker.createService({ ...spec, ...o } as never)
    )
    task.service = spec.Name
    task.created = Date.now()
  }

  /** Removing a service removes its task's containers, on whichever node they are. */
  async removeService(task: PlannedTask) {
    const { service } = task
    if (!service) return
    await ignoreMissing(
      this.engine.call('remove service', (o) => this.engine.docker.getService(service).remove(o))
    )
    task.service = undefined
  }
}

/**
 * Where the task archives the job's artifacts from: each pattern's folder before its
 * first wildcard (`.` for a glob in the working folder), as copyArtifacts reads them.
 */
function artifactBases(plan: ContainerPlan): string[] {
  const bases = (plan.artifacts ?? []).map((p) => artifactBase(p).base.replace(/^\.\//, '') || '.')
  return [...new Set(bases)]
}
