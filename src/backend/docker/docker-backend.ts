import { setTimeout as sleep } from 'node:timers/promises'
import Docker from 'dockerode'
import type { ContainerPlan } from '../../plan/container-plan.js'
import type { ImageSource } from '../../plan/image-plan.js'
import { LABEL_RUN_ID } from '../../plan/labels.js'
import type { StageBatch } from '../../plan/stage-batches.js'
import { batchExec } from '../batch-script.js'
import {
  type Backend,
  type ImageRun,
  type ContainerExit,
  type ContainerHealth,
  type KeptResources,
  type OutputHandler,
  type RemovedCounts,
  type RunSetup
} from '../backend.js'
import { EngineConnection, ignoreMissing, statusOf } from '../engine/connection.js'
import { ImageClient } from '../engine/image-client.js'
import { createBody } from './create-body.js'
import { withSoftLimits } from './exec-limits.js'
import { DRIVER_SHELL, STAGE_KILL, StageDriver, type Reffable } from './stage-driver.js'
import { hostPathOf, ownContainerHints, resolvedPath, type OwnContainer } from './own-container.js'
import { prepareDockerImage } from '../engine/images.js'
import { logLines } from '../engine/stream-demux.js'
import { removeInUse, runResources, sweepEngine } from '../engine/sweep.js'
import { directoriesArchive, readFolderFiles } from '../engine/tar-files.js'

/**
 * The Backend on one Docker engine, through dockerode, where its EngineSettings say
 * (the app resolves them as the docker CLI would). Jobs are containers on the run's bridge network, the workspace and named
 * volumes are Docker volumes, stages go to each container's stage driver (an exec where
 * an image has no shell), and everything is labelled for the sweep.
 */
export class DockerBackend extends EngineConnection implements Backend {
  readonly name = 'docker'
  private readonly live = new Set<string>()
  private cpus: Promise<number> | undefined
  private own: Promise<OwnContainer | undefined> | undefined
  /** The engine's image calls, over this backend's connection. */
  readonly imageClient = new ImageClient(this)
  /** The `ulimits` of the containers this backend created, for what it execs in them. */
  private readonly ulimits = new Map<string, ContainerPlan['resources']['ulimits']>()
  /** Whether an image has the stage driver's shell, by ref, once its first container told. */
  private readonly shells = new Map<string, boolean>()
  /** Containers whose main process is a stage driver, and the drivers of those started. */
  private readonly driven = new Set<string>()
  private readonly drivers = new Map<string, StageDriver>()

  liveContainers(): number {
    return this.live.size
  }

  cpuCount(): Promise<number> {
    // dockerode's info() takes no options: the call's timeout still ends it.
    this.cpus ??= this.call('info', () => this.docker.info() as Promise<{ NCPU: number }>).then(
      (info) => info.NCPU
    )
    return this.cpus
  }

  async setupRun(run: RunSetup): Promise<void> {
    for (const volume of run.volumes) {
      if (volume.external) {
        if (!(await this.volumeExists(volume.name))) {
          throw new Error(
            `volume '${volume.key}' is external, but the engine has no volume '${volume.name}' (create it with: docker volume create ${volume.name})`
          )
        }
        continue
      }
      await this.call('create volume', (o) =>
        this.docker.createVolume({
          Name: volume.name,
          Labels: volume.labels,
          ...(volume.driver ? { Driver: volume.driver } : {}),
          ...(volume.driverOptions ? { DriverOpts: volume.driverOptions } : {}),
          ...o
        })
      )
    }
    await this.createNetwork(run.network.name, run.network.labels)
  }

  prepareImage(image: ImageSource, run: ImageRun): Promise<string | undefined> {
    return prepareDockerImage(this.imageClient, image, run)
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<void> {
    await this.call('create network', (o) =>
      this.docker.createNetwork({ Name: name, Driver: 'bridge', Labels: labels, ...o })
    )
  }

  async connectNetwork(containerId: string, network: string, aliases: string[]): Promise<void> {
    await this.call('connect network', (o) =>
      this.docker
        .getNetwork(network)
        .connect({ Container: containerId, EndpointConfig: { Aliases: aliases }, ...o })
    )
  }

  async removeNetwork(name: string): Promise<void> {
    await removeInUse(
      this.call,
      'remove network',
      (o) => this.docker.getNetwork(name).remove(o),
      403
    )
  }

  async health(containerId: string): Promise<ContainerHealth> {
    const { State } = await this.call('inspect container', (o) =>
      this.docker.getContainer(containerId).inspect(o)
    )
    const health = State.Health as
      { Status: ContainerHealth['health']; Log?: Array<{ Output: string }> } | undefined
    const last = health?.Log?.at(-1)?.Output.trim()
    return {
      running: State.Running,
      exitCode: State.ExitCode,
      health: health?.Status ?? 'none',
      ...(last ? { lastCheck: last } : {})
    }
  }

  async logTail(containerId: string, lines: number): Promise<string[]> {
    const raw = (await this.call('container logs', (o) =>
      this.docker
        .getContainer(containerId)
        .logs({ stdout: true, stderr: true, tail: lines, follow: false, ...o })
    )) as unknown as Buffer
    return logLines(raw)
  }

  /** Whether a volume of this name exists (for `external: true` volumes). */
  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.call('inspect volume', () => this.docker.getVolume(name).inspect())
      return true
    } catch (error) {
      if (statusOf(error) === 404) return false
      throw error
    }
  }

  async createContainer(plan: ContainerPlan): Promise<string> {
    const own = plan.mounts.some((m) => m.type === 'bind') ? await this.ownContainer() : undefined
    const onHost = own ? await withHostSources(plan, own) : plan
    const create = async (driver: boolean) => {
      // dockerode sends top-level options as query parameters too: `name` and `platform`.
      const options = {
        name: plan.name,
        ...(plan.platform ? { platform: plan.platform } : {}),
        ...createBody(onHost, { driver })
      } as Docker.ContainerCreateOptions
      const { id } = await this.call('create container', (o) =>
        this.docker.createContainer({ ...options, ...o })
      )
      this.live.add(id)
      return id
    }
    const shell = this.shells.get(plan.image.ref)
    const driver = plan.runs === 'stages' && shell !== false
    let id = await create(driver)
    if (driver && shell === undefined) {
      // Asked once per image, of its first container (created, not started: cheap).
      const has = await this.hasFile(id, DRIVER_SHELL)
      this.shells.set(plan.image.ref, has)
      if (!has) {
        await this.removeContainer(id)
        id = await create(false)
      }
    }
    if (plan.runs === 'stages' && this.shells.get(plan.image.ref)) this.driven.add(id)
    if (plan.resources.ulimits.length > 0) this.ulimits.set(id, plan.resources.ulimits)
    return id
  }

  /** Whether a path exists in a container (created or running). */
  private async hasFile(containerId: string, filePath: string): Promise<boolean> {
    try {
      const answer = (await this.call('stat a file', (o) =>
        this.docker.getContainer(containerId).infoArchive({ path: filePath, ...o })
      )) as NodeJS.ReadableStream
      // dockerode hands over the answer as a stream: read to its end, it frees the socket.
      answer.resume()
      return true
    } catch (error) {
      if (statusOf(error) === 404) return false
      throw error
    }
  }

  /**
   * The container this process runs in, when it runs in one on this engine (a workflow
   * job's `container:` with the runner's socket): its bind sources are paths on the
   * engine's host, which this process sees only through its own mounts.
   */
  private ownContainer(): Promise<OwnContainer | undefined> {
    this.own ??= (async () => {
      for (const id of await ownContainerHints()) {
        try {
          const info = await this.call('inspect own container', (o) =>
            this.docker.getContainer(id).inspect(o)
          )
          const mounts = info.Mounts.filter((m) => m.Source !== '').map((m) => ({
            destination: m.Destination,
            source: m.Source
          }))
          return { id: info.Id, mounts }
        } catch (error) {
          // Another engine's container, or not one at all: the next hint, or none.
          if (statusOf(error) !== 404) throw error
        }
      }
      return undefined
    })()
    return this.own
  }

  async makeDirectories(containerId: string, root: string, dirs: string[]): Promise<void> {
    const archive = directoriesArchive(root, dirs)
    await this.call('upload folders', (o) =>
      this.docker.getContainer(containerId).putArchive(archive, { path: root, ...o })
    )
  }

  async startContainer(containerId: string): Promise<void> {
    // The driver reads its stages on stdin from its start: attached first, nothing is lost.
    if (this.driven.has(containerId)) await this.attachDriver(containerId)
    await this.call('start container', (o) => this.docker.getContainer(containerId).start(o))
  }

  /** Opens a stage driver's stdin and output (stage-driver.ts); again after a restart. */
  private async attachDriver(containerId: string): Promise<void> {
    this.drivers.get(containerId)?.close()
    const stream = (await this.call('attach container', (o) =>
      this.docker.getContainer(containerId).attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
        ...o
      })
    )) as NodeJS.ReadWriteStream
    const driver = new StageDriver(stream, stream as unknown as Reffable)
    this.drivers.set(containerId, driver)
    // Its end is the container's stop: a command still running fails. A broken
    // connection is the engine's loss, as on an exec's stream.
    this.demux(stream, (name, chunk) => driver.output(name, chunk))
    let ended = false
    const end = (error?: unknown) => {
      if (ended) return
      ended = true
      if (this.drivers.get(containerId) === driver) this.drivers.delete(containerId)
      if (error !== undefined || !driver.running) return driver.end(error)
      // Ended mid-command: the container stopped, or the connection broke (as a proxy
      // closes it). The engine's answer tells which; no answer is the engine's loss.
      this.call('inspect container', (o) => this.docker.getContainer(containerId).inspect(o)).then(
        () => driver.end(),
        (failure: unknown) => driver.end(failure)
      )
    }
    stream.on('end', () => end())
    stream.on('close', () => end())
    stream.on('error', (error) => end(this.lostOr(error)))
  }

  async runContainer(containerId: string, onOutput: OutputHandler): Promise<ContainerExit> {
    const container = this.docker.getContainer(containerId)
    const stream = await this.call('attach container', (o) =>
      container.attach({ stream: true, stdout: true, stderr: true, ...o })
    )
    const ended = this.pump(stream, onOutput)
    await this.startContainer(containerId)
    // Waiting is a long poll: it ends with the container, or when the stream breaks.
    const [{ StatusCode }] = await Promise.all([
      container.wait().catch((e: unknown) => Promise.reject(this.lostOr(e))),
      ended
    ])
    const { oomKilled } = await this.inspectExit(containerId)
    return { exitCode: StatusCode as number, oomKilled }
  }

  runBatch(containerId: string, batch: StageBatch, onOutput: OutputHandler): Promise<number> {
    const { argv, env } = batchExec(batch)
    return this.exec(containerId, argv, env, onOutput)
  }

  async exec(
    containerId: string,
    cmd: string[],
    env: string[],
    onOutput: OutputHandler
  ): Promise<number> {
    const argv = withSoftLimits(cmd, this.ulimits.get(containerId) ?? [])
    // A stage's turn is a write to the driver; the exec path serves what comes meanwhile.
    const driver = this.drivers.get(containerId)
    if (driver?.idle) return driver.run(argv, env, onOutput)
    const exec = await this.call('create exec', (o) =>
      this.docker.getContainer(containerId).exec({
        Cmd: argv,
        Env: env,
        AttachStdout: true,
        AttachStderr: true,
        ...o
      })
    )
    const stream = await this.call('start exec', () => exec.start({ hijack: true, stdin: false }))
    await this.pump(stream, onOutput)
    for (;;) {
      const info = await this.call('inspect exec', (o) => exec.inspect(o))
      if (!info.Running) return info.ExitCode ?? -1
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  async memoryKills(containerId: string): Promise<number | undefined> {
    let text = ''
    try {
      // Each container sees its own cgroup there; `cat` prints whichever file exists.
      await this.exec(containerId, ['cat', ...CGROUP_MEMORY_EVENTS], [], (stream, chunk) => {
        if (stream === 'stdout') text += chunk.toString('utf8')
      })
    } catch {
      return undefined
    }
    const match = /^oom_kill (\d+)$/m.exec(text)
    return match ? Number(match[1]) : undefined
  }

  async archive(containerId: string, filePath: string): Promise<NodeJS.ReadableStream | undefined> {
    try {
      const archive = await this.call('read files', (o) =>
        this.docker.getContainer(containerId).getArchive({ path: filePath, ...o })
      )
      return this.track(archive)
    } catch (error) {
      if (statusOf(error) === 404) return undefined
      throw error
    }
  }

  async workingDir(containerId: string): Promise<string> {
    const { Config } = await this.call('inspect container', (o) =>
      this.docker.getContainer(containerId).inspect(o)
    )
    return Config.WorkingDir || '/'
  }

  async kill(containerId: string): Promise<void> {
    const container = this.docker.getContainer(containerId)
    try {
      await this.call('kill container', (o) => container.kill(o))
    } catch (error) {
      // 409: not running (already stopped); 404: already removed.
      if (statusOf(error) === 404) return
      if (statusOf(error) !== 409) throw error
    }
    await ignoreMissing(
      this.call('wait for a killed container', (o) =>
        container.wait({ condition: 'not-running', ...o })
      )
    )
  }

  async killStage(containerId: string): Promise<'stage' | 'container'> {
    const driver = this.drivers.get(containerId)
    if (driver?.running) {
      // Its processes die and the driver, PID 1, reports the exit; a process that outlives
      // SIGKILL (stuck in the kernel, or another user's) takes the container down after all.
      const killed = await this.exec(containerId, STAGE_KILL, [], () => undefined).then(
        () => true,
        () => false
      )
      const ended = driver.settled().then(() => true)
      const late = sleep(STAGE_KILL_GRACE_MS, false, { ref: false })
      if (killed && (await Promise.race([ended, late]))) return 'stage'
    }
    await this.kill(containerId)
    return 'container'
  }

  async readFiles(
    containerId: string,
    dirPath: string,
    limitBytes: number
  ): Promise<Map<string, string>> {
    const archive = await this.archive(containerId, dirPath)
    return archive ? readFolderFiles(archive, limitBytes) : new Map()
  }

  private async inspectExit(containerId: string): Promise<ContainerExit> {
    const { State } = await this.call('inspect container', (o) =>
      this.docker.getContainer(containerId).inspect(o)
    )
    return { exitCode: State.ExitCode, oomKilled: State.OOMKilled }
  }

  async removeContainer(containerId: string): Promise<void> {
    await ignoreMissing(
      this.call('remove container', (o) =>
        this.docker.getContainer(containerId).remove({ force: true, v: true, ...o })
      )
    )
    this.live.delete(containerId)
    this.ulimits.delete(containerId)
    this.driven.delete(containerId)
    this.drivers.get(containerId)?.close()
    this.drivers.delete(containerId)
  }

  async killRun(runId: string): Promise<void> {
    const filters = JSON.stringify({ label: [`${LABEL_RUN_ID}=${runId}`], status: ['running'] })
    const containers = await this.call('list containers', (o) =>
      this.docker.listContainers({ filters, ...o })
    )
    await Promise.all(
      containers.map((c) =>
        ignoreMissing(this.call('kill container', (o) => this.docker.getContainer(c.Id).kill(o)))
      )
    )
  }

  async kept(runId: string): Promise<KeptResources> {
    const listed = runResources(this.docker, this.call, runId)
    const [containers, volumes, networks] = await Promise.all([
      listed.containers(),
      listed.volumes(),
      listed.networks()
    ])
    return {
      containers: containers.map((c) => c.Names[0].replace(/^\//, '')).sort(),
      volumes: volumes.map((v) => v.Name).sort(),
      networks: networks.map((n) => n.Name).sort()
    }
  }

  async sweep(runId?: string): Promise<RemovedCounts> {
    return sweepEngine(this.docker, this.call, (id) => this.removeContainer(id), runId)
  }
}

/** How long a killed stage's driver may take to report its exit before the container goes. */
const STAGE_KILL_GRACE_MS = 2000

/** Where a container's memory cgroup counts OOM kills: cgroup v1, then v2. */
const CGROUP_MEMORY_EVENTS = [
  '/sys/fs/cgroup/memory/memory.oom_control',
  '/sys/fs/cgroup/memory.events'
]

/** The plan with every bind source as the engine's host has it (see hostPathOf). */
async function withHostSources(plan: ContainerPlan, own: OwnContainer): Promise<ContainerPlan> {
  const mounts = await Promise.all(
    plan.mounts.map(async (m) =>
      m.type === 'bind' ? { ...m, source: hostPathOf(await resolvedPath(m.source), own) } : m
    )
  )
  return { ...plan, mounts }
}
