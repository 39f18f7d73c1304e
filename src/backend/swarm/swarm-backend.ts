import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type Docker from 'dockerode'
import type { ContainerPlan } from '../../plan/container-plan.js'
import { registryOf, type ImageSource, type RegistryCredentials } from '../../plan/image-plan.js'
import { WORKSPACE_DIR } from '../../plan/container-paths.js'
import { LABEL_MANAGED, LABEL_RUN_ID } from '../../plan/labels.js'
import type { StageBatch } from '../../plan/stage-batches.js'
import { batchExec } from '../batch-script.js'
import { artifactBase } from '../../pipeline/artifact-patterns.js'
import {
  EngineUnavailableError,
  errorMessage,
  FileTooLargeError,
  type Backend,
  type ContainerExit,
  type ContainerHealth,
  type ImageRun,
  type KeptResources,
  type OutputHandler,
  type RemovedCounts,
  type RunSetup
} from '../backend.js'
import {
  EngineConnection,
  ignoreMissing,
  statusOf,
  type EngineSettings
} from '../engine/connection.js'
import { credentialsFromDockerConfig } from '../engine/docker-config.js'
import { ImageClient } from '../engine/image-client.js'
import { configLogin, prepareDockerImage, pushBuiltImage } from '../engine/images.js'
import { logLines } from '../engine/stream-demux.js'
import { filesArchive } from '../engine/tar-files.js'
import { removeBuiltTags, removeInUse, runResources } from '../engine/sweep.js'
import { serviceBody, type ServiceBody } from './service-body.js'
import { newTaskMarker, taskOutput, type TaskFrame } from '../task-frame.js'
import { taskCommand } from './task-script.js'
import {
  BATCH_DIR,
  batchScript,
  DEFAULT_HELPER_IMAGE,
  storeOf,
  WORKSPACE_STORE,
  workspaceContainerBody
} from './workspace-service.js'

/** How long a task may wait for a node (pending, pulling) before its job fails. */
export const DEFAULT_SCHEDULE_TIMEOUT_MS = 180_000

/** The Engine API's longest service name. */
const MAX_SERVICE_NAME = 63

/** How often a running task's state is read: its end is seen within this. */
const POLL_MS = 100

/** How often the nodes' states are read, to tell a task whose node went down. */
const NODES_POLL_MS = 2000

/**
 * How long a task's logs may lag behind its end before the reader stops waiting: the
 * Swarm's log stream falls seconds behind on a busy manager (3 s lost a task's frame, and
 * with it the job's artifacts, in CI). The wait ends as soon as the frame is in.
 */
const LOG_GRACE_MS = 15_000

/** Task states before it runs: the schedule timeout counts while a task is in one. */
const WAITING = new Set([
  'new',
  'pending',
  'assigned',
  'accepted',
  'preparing',
  'ready',
  'starting'
])

/** A container of the scheduler's, which becomes a Swarm job when something runs in it. */
interface PlannedTask {
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

/**
 * The Backend on a Docker Swarm, through a manager's Engine API. A container of the
 * scheduler's is a plan until something runs in it: then it becomes a service of one
 * task, run once, whose command is the stage batch (or the plan's own command), wrapped
 * by taskCommand so that what the stages leave (outputs, annotations, exit status) comes
 * back on the task's log stream. The run's network is an attachable overlay network with
 * DNS round-robin endpoints; the run's workspace is a container on the manager attached to
 * it (workspace-service.ts) that each task fetches from and sends to, so a job reads what
 * the jobs it needs wrote on any node. Everything is labelled on the service and its
 * containers.
 *
 * A job's first task is created when the scheduler starts its container ahead of its
 * turn, and waits on the workspace container for its batch, which exec puts there: the
 * node's start and network attach (most of a task's cost) are out of the job's turn.
 *
 * A stage that runs on its own (an `if:`, a timeout, `stages.*` in its script) is a task
 * of its own: a new container of the same image, which fetches the workspace the tasks
 * before it sent. What a stage leaves outside the workspace does not reach the next task.
 *
 * An image the run builds (`build:`) is built on the manager's engine, pushed to the
 * registry given as `registry`, and run by its digest there, so that any node can pull it.
 *
 * A job's services (sidecars) are services of their own, started at once, on an overlay
 * network of the job's that its tasks join; a service with a health check is ready when
 * its task runs, as the Swarm holds a task `starting` until its check passes.
 *
 * A job's artifacts come back in its task's frame, as tar archives, since nothing can be
 * copied out of a task once it ended; they are held in memory until copied.
 *
 * A named volume of the file that is not external is kept by the workspace service too,
 * as a store of its own: a job's task fetches it into the mount's folder (its own empty
 * volume) before its stages and, unless the mount is read-only, sends back what they
 * wrote, as for the workspace. A read-only mount is writable in the task, but what is
 * written there is not sent.
 *
 * Not here (a clear error): artifacts and served volumes of a job that runs its own command.
 */
export class SwarmBackend extends EngineConnection implements Backend {
  readonly name = 'swarm'
  private readonly tasks = new Map<string, PlannedTask>()
  /** Folders of the run's workspace, made in every task (the workspace is the task's own). */
  private readonly dirs = new Set<string>()
  private readonly credentials = new Map<string, RegistryCredentials>()
  /** Where every node pulls the images the run builds from, when one was given. */
  private readonly registry?: string
  /** The manager's image calls, over the same connection: it builds images and pushes them. */
  private readonly builder: ImageClient
  private readonly env: Record<string, string | undefined>
  /** The images the run built, by their run tag: their references by digest. */
  private readonly pushed = new Map<string, string>()
  /** How long a task may wait for a node (pending, pulling) before its job fails. */
  readonly scheduleTimeoutMs: number
  private readonly helperImage: string
  /** The run's workspace container runs (see workspace-service.ts); rejects if it cannot. */
  private workspaceReady: Promise<void> = Promise.resolve()
  /** Its id on the manager's engine, once created. */
  private workspaceId?: string
  /** A task's frame has come back: the nodes reach the workspace, tasks may wait on it. */
  private framed = false
  /** The stores tasks have sent files to: tasks created from now on fetch those. */
  private readonly written = new Set<string>()
  /** The file's named volumes the workspace service keeps, by engine name: store and key. */
  private readonly served = new Map<string, { store: string; key: string }>()
  private nodes: { read: number; down: Promise<Map<string, string>> } | undefined
  private ids = 0

  constructor(
    engine: EngineSettings | Docker,
    options: {
      timeoutMs?: number
      scheduleTimeoutMs?: number
      /** The image of the run's workspace service: BusyBox's `sh`, `tar` and `httpd`. */
      helperImage?: string
      /** `host[:port][/path]` of a registry every node pulls from: needed for `build:`. */
      registry?: string
      /** Where the Docker config is (DOCKER_CONFIG): the login for the helper image's pull. */
      env?: Record<string, string | undefined>
    } = {}
  ) {
    super(engine, options)
    this.builder = new ImageClient(this)
    this.env = options.env ?? {}
    if (options.registry) this.registry = options.registry
    this.scheduleTimeoutMs = options.scheduleTimeoutMs ?? DEFAULT_SCHEDULE_TIMEOUT_MS
    this.helperImage = options.helperImage || DEFAULT_HELPER_IMAGE
  }

  liveContainers(): number {
    return [...this.tasks.values()].filter((t) => t.service).length
  }

  /** The engine answers, and is a manager of a swarm: only a manager takes services. */
  override async ping(): Promise<void> {
    await super.ping()
    try {
      await this.call('inspect swarm', () => this.docker.swarmInspect())
    } catch (error) {
      if (statusOf(error) !== 503 && statusOf(error) !== 406) throw error
      throw new EngineUnavailableError(
        `the Docker engine at ${this.endpoint.host} is not a swarm manager: point DOCKER_HOST at a manager of the swarm, or make this engine one with: docker swarm init`,
        { cause: error }
      )
    }
  }

  async setupRun(run: RunSetup): Promise<void> {
    for (const volume of run.volumes) {
      if (volume.key === 'workspace' || volume.external) continue
      // A driver's volume would be made on each node, where only that node can remove it.
      if (
        (volume.driver ?? 'local') !== 'local' ||
        Object.keys(volume.driverOptions ?? {}).length > 0
      )
        throw new Error(
          `volume '${volume.key}' has a driver or driver_opts, which the swarm would apply on each node, leaving a volume on each that the manager cannot remove: create it on every node and make it 'external: true', or leave driver and driver_opts out (the run's workspace service keeps it)`
        )
      this.served.set(volume.name, { store: storeOf(this.served.size), key: volume.key })
    }
    await this.createNetwork(run.network.name, run.network.labels)
    const workspace = workspaceContainerBody({
      name: `${run.network.name}-workspace`,
      image: this.helperImage,
      network: run.network.name,
      labels: run.network.labels
    })
    // Jobs' tasks are created meanwhile; each waits for it (see exec).
    this.workspaceReady = this.startWorkspace(workspace).catch((error: unknown) => {
      throw new Error(
        `the run's workspace container (image ${this.helperImage}, CTR_SWARM_HELPER_IMAGE) did not start on the manager: ${errorMessage(error)}`
      )
    })
    this.workspaceReady.catch(() => undefined)
  }

  /** Creates and starts the workspace container on the manager, pulling its image if need be. */
  private async startWorkspace(body: ReturnType<typeof workspaceContainerBody>) {
    if (!(await this.builder.imageExists(body.Image))) {
      const auth = await credentialsFromDockerConfig(registryOf(body.Image), this.env)
      await this.builder.pullImage(body.Image, auth ? { auth } : {}, () => undefined)
    }
    const { id } = await this.call('create container', (o) =>
      this.docker.createContainer({ ...body, ...o } as Docker.ContainerCreateOptions)
    )
    this.workspaceId = id
    await this.call('start container', (o) => this.docker.getContainer(id).start(o))
  }

  async prepareImage(image: ImageSource, run: ImageRun): Promise<string | undefined> {
    if (image.kind === 'pull') {
      // Each node pulls what it runs; credentials (`auth:`, else the Docker config file's,
      // as locally) go with the service request, never in its spec.
      const auth = image.auth ?? (await configLogin(registryOf(image.ref), run))
      if (auth) this.credentials.set(image.ref, auth)
      return undefined
    }
    if (!this.registry)
      throw new Error(
        'build: on the swarm backend needs a registry every node pulls from: give it with --registry HOST[:PORT] (the action input registry)'
      )
    // `build.push` pushes the user's name too, as on one engine; the nodes pull the run's.
    const named = await prepareDockerImage(this.builder, image, run)
    const pushed = await pushBuiltImage(this.builder, image, this.registry, run)
    this.pushed.set(image.ref, pushed.ref)
    if (pushed.auth) this.credentials.set(pushed.ref, pushed.auth)
    return named
  }

  createContainer(plan: ContainerPlan): Promise<string> {
    const id = `swarm-${++this.ids}`
    this.tasks.set(id, {
      plan,
      runs: 0,
      killed: false,
      files: new Map(),
      archives: new Map(),
      awaited: false,
      networks: []
    })
    return Promise.resolve(id)
  }

  makeDirectories(_containerId: string, _root: string, dirs: string[]): Promise<void> {
    for (const dir of dirs) this.dirs.add(dir)
    return Promise.resolve()
  }

  /**
   * A service (sidecar: its own command) starts now, and runs until removed. A job's
   * container has nothing to start: its task starts when something runs in it (again,
   * after a kill).
   */
  async startContainer(containerId: string): Promise<void> {
    const task = this.task(containerId)
    task.killed = false
    if (task.plan.runs === 'command') await this.createService(task, this.spec(task, { env: [] }))
    else {
      task.started = true
      if (this.framed) await this.prestart(task)
    }
  }

  /**
   * Creates a job's first task before its turn (the scheduler starts containers ahead),
   * so that the node has it attached to the run's network and running by then: it waits
   * on the workspace container for its batch, which exec puts there. Only once a task's
   * frame has come back: before that, the nodes may not know the workspace's address yet,
   * and the first jobs would wait to learn it where they need nothing from it.
   */
  private prestart(task: PlannedTask): Promise<void> {
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

  async runContainer(containerId: string, onOutput: OutputHandler): Promise<ContainerExit> {
    const task = this.task(containerId)
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

  /** A stage of its own: its files are in the folder of its `CTR_OUTPUT`. */
  exec(
    containerId: string,
    cmd: string[],
    env: string[],
    onOutput: OutputHandler
  ): Promise<number> {
    const output = env.find((e) => e.startsWith('CTR_OUTPUT='))
    const dirs = output ? [path.posix.dirname(output.slice('CTR_OUTPUT='.length))] : []
    return this.runStages(containerId, cmd, env, dirs, onOutput)
  }

  /** A batch is the command of a task (scripts/batch.sh); its stages' folders come back. */
  runBatch(containerId: string, batch: StageBatch, onOutput: OutputHandler): Promise<number> {
    const { argv, env } = batchExec(batch)
    const dirs = batch.stages.map((stage) => stage.stateDir)
    return this.runStages(containerId, argv, env, dirs, onOutput)
  }

  /**
   * Runs a command in the container's next task (its waiting one, if it was created
   * ahead), which sends back the files its stages left in `stateDirs`.
   */
  private async runStages(
    containerId: string,
    cmd: string[],
    env: string[],
    stateDirs: string[],
    onOutput: OutputHandler
  ): Promise<number> {
    const task = this.task(containerId)
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
      ? this.putBatch(waiting.batch, cmd, taskEnv).then(() =>
          this.followTask(task, waiting.service, output.push, () => output.complete())
        )
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
      Promise.race([ran, this.workspaceReady.then(() => ran)])
    )
    task.running = running.catch(() => undefined)
    return running
  }

  /** Puts a waiting task's batch into the workspace container: the file, then its `.ok`. */
  private async putBatch(batch: string, cmd: string[], env: string[]) {
    await this.workspaceReady
    const archive = filesArchive([
      { path: batch, content: Buffer.from(batchScript(cmd, env)) },
      { path: `${batch}.ok`, content: Buffer.alloc(0) }
    ])
    await this.call('upload batch', (o) =>
      this.docker.getContainer(this.workspaceId!).putArchive(archive, { path: BATCH_DIR, ...o })
    )
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
      if (frame && !frame.error && !this.framed) {
        this.framed = true
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
  private spec(task: PlannedTask, run: { command?: string[]; env: string[] }): ServiceBody {
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
  private async followTask(
    task: PlannedTask,
    service: string,
    onOutput: OutputHandler,
    logsComplete: () => boolean
  ): Promise<number> {
    // A stream: no timeout of its own (it ends with the task, or when the engine is lost).
    const logs = (await this.docker
      .getService(service)
      .logs({ follow: true, stdout: true, stderr: true })
      .catch((e: unknown) => Promise.reject(this.lostOr(e)))) as NodeJS.ReadableStream
    const pumped = this.pump(logs, onOutput).catch(() => undefined)
    const stop = () => (logs as unknown as { destroy(): void }).destroy()
    try {
      const exitCode = await this.waitForEnd(task, service)
      const deadline = Date.now() + LOG_GRACE_MS
      while (!logsComplete() && Date.now() < deadline && !task.killed) await sleep(20)
      return exitCode
    } finally {
      stop()
      await pumped
    }
  }

  /** Creates a task's service, with the credentials for its image (never in its spec). */
  private async createService(task: PlannedTask, spec: ServiceBody) {
    // The task before it (over: stages run one after another) has said all it had to.
    await this.removeService(task)
    const auth = this.credentials.get(spec.TaskTemplate.ContainerSpec.Image)
    await this.call('create service', (o) =>
      auth
        ? this.docker.createService(auth, { ...spec, abortSignal: o.abortSignal } as never)
        : this.docker.createService({ ...spec, ...o } as never)
    )
    task.service = spec.Name
    task.created = Date.now()
  }

  /** Polls a task's state until it ends; see runTask. */
  private async waitForEnd(task: PlannedTask, service: string): Promise<number> {
    const deadline = Date.now() + this.scheduleTimeoutMs
    for (;;) {
      // Killed, or removed after its run failed: it is over either way.
      if (task.killed || !task.service) return 137
      const { state, reason, exitCode, nodeId } = await this.taskState(service)
      if ((state === 'complete' || state === 'failed') && exitCode !== undefined) return exitCode
      if (
        state === 'rejected' ||
        state === 'failed' ||
        state === 'orphaned' ||
        state === 'shutdown'
      )
        throw notRun(state, reason)
      if (WAITING.has(state) && Date.now() > deadline) throw this.notStarted(state, reason)
      if (state === 'running' && nodeId) {
        const down = (await this.downNodes()).get(nodeId)
        if (down) throw new Error(`its node ${down} went down while it ran`)
      }
      await sleep(POLL_MS)
    }
  }

  /** A task still waiting for a node when the schedule timeout is up, in the Swarm's words. */
  private notStarted(state: string, reason: string): Error {
    return new Error(
      `no node of the swarm started it within ${this.scheduleTimeoutMs / 1000} s (task ${state}: ${reason})`
    )
  }

  /** The state of a service's latest task, and the Swarm's words for it. */
  private async taskState(service: string) {
    const filters = JSON.stringify({ service: [service] })
    const tasks = (await this.call('list tasks', (o) =>
      this.docker.listTasks({ filters, ...o })
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

  /** The nodes that are down, by id (their host names as values), read every NODES_POLL_MS. */
  private downNodes(): Promise<Map<string, string>> {
    if (!this.nodes || Date.now() - this.nodes.read > NODES_POLL_MS) {
      const down = this.call('list nodes', (o) => this.docker.listNodes(o)).then(
        (nodes: SwarmNode[]) =>
          new Map(
            nodes
              .filter((n) => n.Status.State === 'down')
              .map((n) => [n.ID, n.Description?.Hostname ?? n.ID])
          )
      )
      this.nodes = { read: Date.now(), down }
    }
    return this.nodes.down
  }

  /** The OOM kills its task's frame reported: after the task's end, if it runs. */
  async memoryKills(containerId: string): Promise<number | undefined> {
    const task = this.task(containerId)
    await this.taskEnd(task)
    return task.oomKills
  }

  /** Waits for the container's task to end, if one runs: what it left comes with its end. */
  private async taskEnd(task: PlannedTask) {
    if (!task.running) return
    task.awaited = true
    await task.running
  }

  /** What the container's task left in the folder: after the task's end, if it runs. */
  async readFiles(
    containerId: string,
    dirPath: string,
    limitBytes: number
  ): Promise<Map<string, string>> {
    const task = this.task(containerId)
    await this.taskEnd(task)
    const files = new Map<string, string>()
    for (const [file, content] of task.files) {
      if (path.posix.dirname(file) !== dirPath) continue
      const name = path.posix.basename(file)
      if (content.length > limitBytes) throw new FileTooLargeError(name, content.length, limitBytes)
      files.set(name, content.toString('utf8'))
    }
    return files
  }

  /** An artifact as the container's last task archived it as it ended (see taskCommand). */
  async archive(containerId: string, filePath: string): Promise<NodeJS.ReadableStream | undefined> {
    const task = this.task(containerId)
    await this.taskEnd(task)
    if (task.plan.runs === 'command')
      throw new Error(
        'artifacts of a job that runs its own command cannot be copied out of a swarm task: give the job stages, or run with --backend docker'
      )
    const archive = task.archives.get(path.posix.normalize(filePath))
    return archive ? Readable.from([archive]) : undefined
  }

  /** The working folder its last task reported; the plan's (or `/`) before any ran. */
  async workingDir(containerId: string): Promise<string> {
    const task = this.task(containerId)
    await this.taskEnd(task)
    return task.workdir ?? task.plan.workingDir ?? '/'
  }

  /** An attachable overlay network: tasks on any node reach each other on it by name. */
  async createNetwork(name: string, labels: Record<string, string>): Promise<void> {
    await this.call('create network', (o) =>
      this.docker.createNetwork({
        Name: name,
        Driver: 'overlay',
        Attachable: true,
        Labels: labels,
        ...o
      })
    )
  }

  /** A job's container joins the network with the tasks it runs from now on. */
  connectNetwork(containerId: string, network: string, aliases: string[]): Promise<void> {
    this.task(containerId).networks.push({ Target: network, Aliases: aliases })
    return Promise.resolve()
  }

  async removeNetwork(name: string): Promise<void> {
    await removeInUse(
      this.call,
      'remove network',
      (o) => this.docker.getNetwork(name).remove(o),
      403
    )
  }

  /**
   * A service's state from its task's: `starting` until the task runs (the Swarm holds a
   * task with a health check there until the check passes, and fails it when the check
   * does), its exit once it ends. A task the Swarm will not run, or that no node starts
   * within the schedule timeout, is an Error with the Swarm's reason.
   */
  async health(containerId: string): Promise<ContainerHealth> {
    const task = this.task(containerId)
    if (!task.service) return { running: false, exitCode: 137, health: 'none' }
    const { state, reason, exitCode } = await this.taskState(task.service)
    const checked = task.plan.healthcheck !== undefined
    if (state === 'running')
      return { running: true, exitCode: 0, health: checked ? 'healthy' : 'none' }
    if (WAITING.has(state)) {
      if (Date.now() - (task.created ?? 0) > this.scheduleTimeoutMs)
        throw this.notStarted(state, reason)
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

  /** The last lines of a service's logs, from whichever node ran its task. */
  async logTail(containerId: string, lines: number): Promise<string[]> {
    const { service } = this.task(containerId)
    if (!service) return []
    const raw = (await this.call('service logs', (o) =>
      this.docker
        .getService(service)
        .logs({ stdout: true, stderr: true, tail: lines, follow: false, ...o })
    )) as unknown as Buffer
    return logLines(raw)
  }

  async kill(containerId: string): Promise<void> {
    const task = this.tasks.get(containerId)
    if (!task) return
    task.killed = true
    await task.prestarting?.catch(() => undefined)
    await this.removeService(task)
  }

  /** A task runs its stages in its service's one container: a timeout ends the task. */
  async killStage(containerId: string): Promise<'container'> {
    await this.kill(containerId)
    return 'container'
  }

  async removeContainer(containerId: string): Promise<void> {
    const task = this.tasks.get(containerId)
    if (!task) return
    task.started = false
    await task.prestarting?.catch(() => undefined)
    await this.removeService(task)
    this.tasks.delete(containerId)
  }

  /** Removing a service removes its task's containers, on whichever node they are. */
  private async removeService(task: PlannedTask) {
    const { service } = task
    if (!service) return
    await ignoreMissing(
      this.call('remove service', (o) => this.docker.getService(service).remove(o))
    )
    task.service = undefined
  }

  /** A swarm task cannot be stopped and kept: `--keep` keeps the run's network only. */
  async killRun(runId: string): Promise<void> {
    await Promise.all([
      this.removeServices(`${LABEL_RUN_ID}=${runId}`),
      this.removeManagerContainers(`${LABEL_RUN_ID}=${runId}`)
    ])
  }

  /** Its services (a task's containers go with them), the manager's own containers, networks. */
  async kept(runId: string): Promise<KeptResources> {
    const filters = JSON.stringify({ label: [`${LABEL_RUN_ID}=${runId}`] })
    const listed = runResources(this.docker, this.call, runId)
    const [services, containers, networks] = await Promise.all([
      this.call('list services', (o) => this.docker.listServices({ filters, ...o })),
      listed.containers(),
      listed.networks()
    ])
    return {
      containers: [
        ...services.map((s) => s.Spec?.Name ?? s.ID ?? ''),
        ...containers
          .filter((c) => !c.Labels['com.docker.swarm.service.id'])
          .map((c) => c.Names[0].replace(/^\//, ''))
      ].sort(),
      volumes: [],
      networks: networks.map((n) => n.Name).sort()
    }
  }

  async sweep(runId?: string): Promise<RemovedCounts> {
    const label = runId ? `${LABEL_RUN_ID}=${runId}` : `${LABEL_MANAGED}=true`
    const [services, containers] = await Promise.all([
      this.removeServices(label),
      this.removeManagerContainers(label)
    ])
    const filters = JSON.stringify({ label: [label] })
    const networks = await this.call('list networks', (o) =>
      this.docker.listNetworks({ filters, ...o })
    )
    // A network stays in use until the workers have removed their tasks' containers.
    const [images] = await Promise.all([
      removeBuiltTags(this.docker, this.call, runId),
      ...networks.map((n) => this.removeNetwork(n.Id))
    ])
    return { containers: services + containers, volumes: 0, networks: networks.length, images }
  }

  /** Removes every service with the label; resolves to how many there were. */
  private async removeServices(label: string): Promise<number> {
    const filters = JSON.stringify({ label: [label] })
    const services = await this.call('list services', (o) =>
      this.docker.listServices({ filters, ...o })
    )
    await Promise.all(
      services.map((s) =>
        ignoreMissing(this.call('remove service', (o) => this.docker.getService(s.ID!).remove(o)))
      )
    )
    for (const task of this.tasks.values()) task.service = undefined
    return services.length
  }

  /** Removes the manager's containers with the label (the workspace), with their volumes. */
  private async removeManagerContainers(label: string): Promise<number> {
    // One still being created would be missed by the list below.
    await this.workspaceReady.catch(() => undefined)
    const filters = JSON.stringify({ label: [label] })
    const containers = await this.call('list containers', (o) =>
      this.docker.listContainers({ all: true, filters, ...o })
    )
    // A task's container on the manager goes with its service, not here.
    const own = containers.filter((c) => !c.Labels['com.docker.swarm.service.id'])
    await Promise.all(
      own.map((c) =>
        ignoreMissing(
          this.call('remove container', (o) =>
            this.docker.getContainer(c.Id).remove({ force: true, v: true, ...o })
          )
        )
      )
    )
    return own.length
  }

  private task(containerId: string): PlannedTask {
    const task = this.tasks.get(containerId)
    if (!task) throw new Error(`no container ${containerId} on the swarm backend`)
    return task
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

/** A task the Swarm would not run (or ended before its command), in the Swarm's words. */
function notRun(state: string, reason: string): Error {
  return new Error(`the swarm did not run it (task ${state}): ${reason}`)
}

/** What the Engine API lists of a task. */
interface SwarmTask {
  NodeID?: string
  Status: { State: string; Message?: string; Err?: string; ContainerStatus?: { ExitCode?: number } }
}

/** What the Engine API lists of a node. */
interface SwarmNode {
  ID: string
  Status: { State: string }
  Description?: { Hostname?: string }
}
