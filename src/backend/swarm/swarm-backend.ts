import path from 'node:path'
import { Readable } from 'node:stream'
import type Docker from 'dockerode'
import type { ContainerPlan } from '../../plan/container-plan.js'
import { registryOf, type ImageSource } from '../../plan/image-plan.js'
import { LABEL_MANAGED, LABEL_RUN_ID } from '../../plan/labels.js'
import type { StageBatch } from '../../plan/stage-batches.js'
import { batchExec } from '../batch-script.js'
import {
  EngineUnavailableError,
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
import { EngineConnection, statusOf, type EngineSettings } from '../engine/connection.js'
import { ImageClient } from '../engine/image-client.js'
import { configLogin, prepareDockerImage, pushBuiltImage } from '../engine/images.js'
import { logLines } from '../engine/stream-demux.js'
import { removeBuiltTags, removeInUse } from '../engine/sweep.js'
import { DEFAULT_HELPER_IMAGE, storeOf } from './workspace-service.js'
import { plannedTask, taskEnd, type PlannedTask } from './planned-task.js'
import { removeManagerContainers, removeServices, keptOnSwarm } from './swarm-sweep.js'
import { serviceHealth } from './task-state.js'
import { TaskRuns } from './task-runs.js'
import { WorkspaceContainer } from './workspace-container.js'

/** How long a task may wait for a node (pending, pulling) before its job fails. */
export const DEFAULT_SCHEDULE_TIMEOUT_MS = 180_000

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
  /** Where every node pulls the images the run builds from, when one was given. */
  private readonly registry?: string
  /** The manager's image calls, over the same connection: it builds images and pushes them. */
  private readonly builder: ImageClient
  /** How long a task may wait for a node (pending, pulling) before its job fails. */
  readonly scheduleTimeoutMs: number
  /** The run's workspace service on the manager (workspace-container.ts). */
  private readonly workspace: WorkspaceContainer
  /** Its containers' tasks: created, followed, their frames kept (task-runs.ts). */
  private readonly runs: TaskRuns
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
    if (options.registry) this.registry = options.registry
    this.scheduleTimeoutMs = options.scheduleTimeoutMs ?? DEFAULT_SCHEDULE_TIMEOUT_MS
    this.workspace = new WorkspaceContainer(
      this,
      this.builder,
      options.helperImage || DEFAULT_HELPER_IMAGE,
      options.env ?? {}
    )
    this.runs = new TaskRuns(this, this.workspace, this.scheduleTimeoutMs, this.tasks)
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
      this.runs.served.set(volume.name, { store: storeOf(this.runs.served.size), key: volume.key })
    }
    await this.createNetwork(run.network.name, run.network.labels)
    // Jobs' tasks are created meanwhile; each waits for it (see exec).
    this.workspace.start(run.network.name, run.network.labels)
  }

  async prepareImage(image: ImageSource, run: ImageRun): Promise<string | undefined> {
    if (image.kind === 'pull') {
      // Each node pulls what it runs; credentials (`auth:`, else the Docker config file's,
      // as locally) go with the service request, never in its spec.
      const auth = image.auth ?? (await configLogin(registryOf(image.ref), run))
      if (auth) this.runs.credentials.set(image.ref, auth)
      return undefined
    }
    if (!this.registry)
      throw new Error(
        'build: on the swarm backend needs a registry every node pulls from: give it with --registry HOST[:PORT] (the action input registry)'
      )
    // `build.push` pushes the user's name too, as on one engine; the nodes pull the run's.
    const named = await prepareDockerImage(this.builder, image, run)
    const pushed = await pushBuiltImage(this.builder, image, this.registry, run)
    this.runs.pushed.set(image.ref, pushed.ref)
    if (pushed.auth) this.runs.credentials.set(pushed.ref, pushed.auth)
    return named
  }

  createContainer(plan: ContainerPlan): Promise<string> {
    const id = `swarm-${++this.ids}`
    this.tasks.set(id, plannedTask(plan))
    return Promise.resolve(id)
  }

  makeDirectories(_containerId: string, _root: string, dirs: string[]): Promise<void> {
    for (const dir of dirs) this.runs.dirs.add(dir)
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
    if (task.plan.runs === 'command')
      await this.runs.createService(task, this.runs.spec(task, { env: [] }))
    else {
      task.started = true
      if (this.runs.framed) await this.runs.prestart(task)
    }
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
    return this.runs.runStages(this.task(containerId), cmd, env, dirs, onOutput)
  }

  /** A batch is the command of a task (scripts/batch.sh); its stages' folders come back. */
  runBatch(containerId: string, batch: StageBatch, onOutput: OutputHandler): Promise<number> {
    const { argv, env } = batchExec(batch)
    const dirs = batch.stages.map((stage) => stage.stateDir)
    return this.runs.runStages(this.task(containerId), argv, env, dirs, onOutput)
  }

  runContainer(containerId: string, onOutput: OutputHandler): Promise<ContainerExit> {
    return this.runs.runCommand(this.task(containerId), onOutput)
  }

  /** The OOM kills its task's frame reported: after the task's end, if it runs. */
  async memoryKills(containerId: string): Promise<number | undefined> {
    const task = this.task(containerId)
    await taskEnd(task)
    return task.oomKills
  }

  /** What the container's task left in the folder: after the task's end, if it runs. */
  async readFiles(
    containerId: string,
    dirPath: string,
    limitBytes: number
  ): Promise<Map<string, string>> {
    const task = this.task(containerId)
    await taskEnd(task)
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
    await taskEnd(task)
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
    await taskEnd(task)
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

  /** A service's state from its task's (serviceHealth). */
  health(containerId: string): Promise<ContainerHealth> {
    return serviceHealth(this, this.task(containerId), this.scheduleTimeoutMs)
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
    await this.runs.removeService(task)
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
    await this.runs.removeService(task)
    this.tasks.delete(containerId)
  }

  /** A swarm task cannot be stopped and kept: `--keep` keeps the run's network only. */
  async killRun(runId: string): Promise<void> {
    await Promise.all([
      this.removeServices(`${LABEL_RUN_ID}=${runId}`),
      this.removeManagerContainers(`${LABEL_RUN_ID}=${runId}`)
    ])
  }

  /** Its services (a task's containers go with them), the manager's own containers, networks. */
  kept(runId: string): Promise<KeptResources> {
    return keptOnSwarm(this, runId)
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

  /** Removes every service with the label; its tasks have none from now on. */
  private async removeServices(label: string): Promise<number> {
    const removed = await removeServices(this, label)
    for (const task of this.tasks.values()) task.service = undefined
    return removed
  }

  /** Removes the manager's containers with the label, the workspace's once it settled. */
  private async removeManagerContainers(label: string): Promise<number> {
    // One still being created would be missed by the list.
    await this.workspace.ready().catch(() => undefined)
    return removeManagerContainers(this, label)
  }

  private task(containerId: string): PlannedTask {
    const task = this.tasks.get(containerId)
    if (!task) throw new Error(`no container ${containerId} on the swarm backend`)
    return task
  }
}
