import Docker from 'dockerode'
import path from 'node:path'
import tar from 'tar-stream'
import type { ContainerPlan } from '../plan/container-plan.js'
import { createBody } from '../backend/docker/create-body.js'
import { BUILT_IMAGE_REPO, type RegistryCredentials } from '../plan/image-plan.js'
import { LABEL_MANAGED, LABEL_RUN_ID } from '../plan/labels.js'
import { InputError } from '../spec/input-error.js'
import { streamDemuxer, type OutputStream } from './stream-demux.js'

export type { OutputStream } from './stream-demux.js'
/**
 * Takes a chunk of a container's output. A promise it returns pauses the output until it
 * settles: how a reporter that cannot keep up holds the container back.
 */
export type OutputHandler = (stream: OutputStream, chunk: Buffer) => void | Promise<void>

/** The engine could not be reached at all: exit status 3, with how to start one. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError'
}

/**
 * The engine stopped answering, or its connection broke (reset, closed), in the middle of
 * something: exit status 3. What the run created may still be on the engine.
 */
export class EngineLostError extends EngineUnavailableError {
  override name = 'EngineLostError'
}

/** A file read from a container is larger than the caller allows. */
export class FileTooLargeError extends Error {
  override name = 'FileTooLargeError'

  constructor(
    readonly file: string,
    readonly sizeBytes: number,
    readonly limitBytes: number
  ) {
    super(`${file} is ${sizeBytes} bytes, more than the ${limitBytes} allowed`)
  }
}

/** How long a call to the engine that is not a stream may take, unless told otherwise. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 60_000

/**
 * `CTR_ENGINE_TIMEOUT`: seconds a call to the engine that is not a stream may take; unset,
 * DEFAULT_ENGINE_TIMEOUT_MS. Anything but a positive number is a usage error.
 */
export function engineTimeoutFromEnv(env: Record<string, string | undefined>): number {
  const text = env.CTR_ENGINE_TIMEOUT
  if (text === undefined || text === '') return DEFAULT_ENGINE_TIMEOUT_MS
  const seconds = Number(text)
  if (!(seconds > 0 && seconds <= 86_400))
    throw new InputError(
      `CTR_ENGINE_TIMEOUT is '${text}': expected seconds, a number above 0 and at most 86400`
    )
  return Math.round(seconds * 1000)
}

/** Where the engine is, as the docker CLI reads it. */
export function engineAddress(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'
}

export interface RemovedCounts {
  containers: number
  volumes: number
  networks: number
  /** Tags of images the run built (`ctr-pipeline-build/...`). */
  images: number
}

/** A volume to create: the Engine API's `POST /volumes/create` body. */
export interface VolumeCreateOptions {
  Name: string
  Labels: Record<string, string>
  Driver?: string
  DriverOpts?: Record<string, string>
}

/** A container finished: its exit code and whether the kernel killed it for memory. */
export interface ContainerExit {
  exitCode: number
  oomKilled: boolean
}

/** One message of a pull's progress stream: a layer (`id`) and its new state. */
export interface PullProgress {
  id?: string
  status: string
}

/** What `POST /build` needs besides the context. */
export interface BuildOptions {
  tag: string
  dockerfile: string
  args: Record<string, string>
  target?: string
  platform?: string
  /** Pull the base images anew (`docker build --pull`). */
  pull: boolean
  /**
   * Cancels the build: the request is closed, which makes the engine stop it before it
   * tags anything; the call then rejects with BuildCancelledError.
   */
  signal?: AbortSignal
}

/** A build stopped through its `signal`: not a failure of the build, nor a lost engine. */
export class BuildCancelledError extends Error {
  override name = 'BuildCancelledError'
}

/** How a service container is doing, from its inspect data. */
export interface ContainerHealth {
  running: boolean
  exitCode: number
  /** Docker's health status; `none` for a container without a health check. */
  health: 'starting' | 'healthy' | 'unhealthy' | 'none'
  /** What the last health check printed. */
  lastCheck?: string
}

/** A registry refused the credentials (or asked for some): said as such, with the registry. */
export class RegistryAuthError extends Error {
  override name = 'RegistryAuthError'
}

/**
 * What ctr-pipeline needs from a Docker engine, and nothing more: the rest of the code
 * talks to this interface, so the Engine API stays in one file.
 */
export interface DockerClient {
  /** Checks that the engine answers; throws EngineUnavailableError when it does not. */
  ping(): Promise<void>
  /** Creates a volume; the engine keeps one that exists already as it is. */
  createVolume(volume: VolumeCreateOptions): Promise<void>
  /** Creates a user-defined bridge network. */
  createNetwork(name: string, labels: Record<string, string>): Promise<void>
  /** Connects a created container to a network, where `aliases` resolve to it. */
  connectNetwork(containerId: string, network: string, aliases: string[]): Promise<void>
  /** Removes a network; one already gone is not an error. */
  removeNetwork(name: string): Promise<void>
  /** Whether a volume of this name exists (for `external: true` volumes). */
  volumeExists(name: string): Promise<boolean>
  /**
   * Whether the engine has this image (by name, tag or id), for `platform`
   * (`os/arch[/variant]`) when one is given.
   */
  imageExists(ref: string, platform?: string): Promise<boolean>
  /**
   * Pulls an image, reporting each message of the engine's progress stream; `platform`
   * picks the variant. Throws RegistryAuthError when the registry refuses the credentials.
   */
  pullImage(
    ref: string,
    options: { platform?: string; auth?: RegistryCredentials },
    onProgress: (progress: PullProgress) => void
  ): Promise<void>
  /**
   * Builds an image from a tar stream of its context, reporting each line of the build's
   * output; throws with the builder's error when a step fails.
   */
  buildImage(
    context: NodeJS.ReadableStream,
    options: BuildOptions,
    onOutput: (line: string) => void
  ): Promise<void>
  /**
   * Creates a container from an image the engine has; `platform` (`linux/arm64`) picks
   * the image variant, as `docker run --platform` does.
   */
  createContainer(plan: ContainerPlan): Promise<string>
  /**
   * Creates folders (mode 0777, so any container user can write) before the container
   * starts; `dirs` are absolute paths inside the mount at `root`.
   */
  makeDirectories(containerId: string, root: string, dirs: string[]): Promise<void>
  startContainer(containerId: string): Promise<void>
  /** Attaches, starts and waits for a container that runs its own command. */
  runContainer(containerId: string, onOutput: OutputHandler): Promise<ContainerExit>
  /** Runs a command in a running container, streaming its output; resolves to its exit code. */
  exec(containerId: string, cmd: string[], env: string[], onOutput: OutputHandler): Promise<number>
  /**
   * How many times the kernel has killed a process of this running container for memory
   * (its cgroup's `oom_kill` counter); undefined when the container cannot show it.
   * Docker sets `State.OOMKilled` only when a container ends, so this is how a stage run
   * by exec learns that it was killed for memory.
   */
  memoryKills(containerId: string): Promise<number | undefined>
  /**
   * The text of each file right inside a folder of a container, by file name, read in one
   * call; empty when the folder does not exist. A file larger than `limitBytes` rejects
   * with FileTooLargeError before any of it is read.
   */
  readFiles(containerId: string, dirPath: string, limitBytes: number): Promise<Map<string, string>>
  /**
   * A tar stream of a file or folder in a container (running or stopped), as
   * `docker cp` gets it: entries named from the path's last part. Undefined when the
   * path does not exist.
   */
  archive(containerId: string, filePath: string): Promise<NodeJS.ReadableStream | undefined>
  /** The container's working folder: `working_dir`, else the image's, else `/`. */
  workingDir(containerId: string): Promise<string>
  /** Whether a container runs, and its health check's verdict. */
  health(containerId: string): Promise<ContainerHealth>
  /** The last lines a container wrote (stdout and stderr). */
  logTail(containerId: string, lines: number): Promise<string[]>
  /** Kills (SIGKILL) one container and waits until it has stopped. */
  killContainer(containerId: string): Promise<void>
  removeContainer(containerId: string): Promise<void>
  /** Kills (SIGKILL) the run's running containers and leaves them in place. */
  killContainers(runId: string): Promise<void>
  /**
   * Force-removes every container, then every volume and network, labelled with the run
   * id, and the tags of the images it built; with no run id, everything ctr-pipeline
   * manages on this engine. A built image loses its tag, but its layers stay: they are the
   * build cache of the next run.
   */
  removeResources(runId?: string): Promise<RemovedCounts>
  /**
   * Calls `listener` once, the first time the engine is lost: a call times out or its
   * connection breaks. By then the client has given up on it: every stream still open
   * (logs, exec output) is destroyed, so that whatever waits on one unwinds at once, and
   * every later call fails with the same EngineLostError without reaching the engine.
   * Returns a function that removes the listener.
   */
  onLost(listener: (error: EngineLostError) => void): () => void
  /** Containers this client created and has not seen removed: what a lost engine may keep. */
  liveContainers(): number
}

/**
 * The DockerClient over dockerode; honours DOCKER_HOST like the docker CLI. Every call that
 * is not a stream gives up after `timeoutMs` (an engine, or a proxy in front of it, that
 * stops answering must not hang the run, nor its cleanup); a broken connection or a call
 * that times out is an EngineLostError.
 */
export class DockerodeClient implements DockerClient {
  private readonly docker: Docker
  private readonly timeoutMs: number
  private readonly streams = new Set<NodeJS.ReadableStream>()
  private readonly live = new Set<string>()
  private abandoned: EngineLostError | undefined
  private readonly lostListeners = new Set<(error: EngineLostError) => void>()

  /** `timeoutMs` defaults to `$CTR_ENGINE_TIMEOUT` (seconds), else DEFAULT_ENGINE_TIMEOUT_MS. */
  constructor(docker: Docker = new Docker(), options: { timeoutMs?: number } = {}) {
    this.docker = docker
    this.timeoutMs = options.timeoutMs ?? engineTimeoutFromEnv(process.env)
  }

  /**
   * One call to the engine that is not a stream, given `abortSignal` for dockerode's
   * options: it ends at the timeout, and a connection that breaks is said as such.
   */
  private async call<T>(what: string, run: (o: { abortSignal: AbortSignal }) => Promise<T>) {
    if (this.abandoned) throw this.abandoned
    const abortSignal = AbortSignal.timeout(this.timeoutMs)
    // Not every dockerode call honours the signal: the race ends those that do not.
    const timedOut = new Promise<never>((_, reject) =>
      abortSignal.addEventListener('abort', () => reject(new Error('timed out')), { once: true })
    )
    timedOut.catch(() => undefined)
    try {
      return await Promise.race([run({ abortSignal }), timedOut])
    } catch (error) {
      if (abortSignal.aborted)
        throw this.lose(
          new EngineLostError(
            `the Docker engine at ${engineAddress()} did not answer (${what}) within ${this.timeoutMs / 1000} s`
          )
        )
      throw this.lostOr(error)
    }
  }

  onLost(listener: (error: EngineLostError) => void): () => void {
    this.lostListeners.add(listener)
    return () => this.lostListeners.delete(listener)
  }

  /** Gives up on the engine (once) and says so; returns the error every later call gets. */
  private lose(reason: EngineLostError): EngineLostError {
    if (this.abandoned) return this.abandoned
    this.abandoned = reason
    for (const stream of this.streams)
      (stream as unknown as { destroy(e?: Error): void }).destroy(reason)
    this.streams.clear()
    for (const listener of this.lostListeners) listener(reason)
    return reason
  }

  /** An error that says the connection to the engine broke loses it; any other is itself. */
  private lostOr(error: unknown): unknown {
    if (error instanceof EngineLostError) return this.lose(error)
    const err = error as NodeJS.ErrnoException | undefined
    const code = err?.code ?? (err?.cause as NodeJS.ErrnoException | undefined)?.code
    if (code && CONNECTION_LOST.has(code) && statusOf(error) === undefined)
      return this.lose(
        new EngineLostError(`lost the Docker engine at ${engineAddress()} (${code})`, {
          cause: error
        })
      )
    return error
  }

  liveContainers(): number {
    return this.live.size
  }

  /** A stream that losing the engine ends. */
  private track<S extends NodeJS.ReadableStream>(stream: S): S {
    this.streams.add(stream)
    const forget = () => this.streams.delete(stream)
    stream.once('end', forget)
    stream.once('close', forget)
    return stream
  }

  async ping(): Promise<void> {
    const lostBefore = this.abandoned
    try {
      await this.call('ping', () => this.docker.ping())
    } catch (error) {
      if (lostBefore) throw error
      // A lost connection keeps what broke it as its cause; a call that timed out has none.
      const cause = (error instanceof EngineLostError ? error.cause : error) as
        NodeJS.ErrnoException | undefined
      const reason =
        cause === undefined
          ? `no answer within ${this.timeoutMs / 1000} s`
          : ((cause.cause as NodeJS.ErrnoException | undefined)?.code ??
            cause.code ??
            cause.message)
      throw new EngineUnavailableError(
        `cannot reach the Docker engine at ${engineAddress()} (${reason}): start one ` +
          `(sudo systemctl start docker, or sudo dockerd &) or point DOCKER_HOST at one`,
        { cause: error }
      )
    }
  }

  async createVolume(volume: VolumeCreateOptions): Promise<void> {
    await this.call('create volume', (o) => this.docker.createVolume({ ...volume, ...o }))
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
    await this.removeInUse('remove network', (o) => this.docker.getNetwork(name).remove(o), 403)
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
    // Framed as exec output is (no TTY); decoded once whole, so a character cut across
    // two frames stays whole.
    const payloads: Buffer[] = []
    streamDemuxer((_stream, payload) => void payloads.push(payload))(raw)
    return Buffer.concat(payloads)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0)
  }

  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.call('inspect volume', () => this.docker.getVolume(name).inspect())
      return true
    } catch (error) {
      if (statusOf(error) === 404) return false
      throw error
    }
  }

  async imageExists(ref: string, platform?: string): Promise<boolean> {
    try {
      const image = await this.call('inspect image', () => this.docker.getImage(ref).inspect())
      if (!platform) return true
      const variant = (image as { Variant?: string }).Variant
      const has = [image.Os, image.Architecture, ...(variant ? [variant] : [])].join('/')
      return has === platform || has.startsWith(`${platform}/`)
    } catch (error) {
      if (statusOf(error) === 404) return false
      throw error
    }
  }

  async pullImage(
    ref: string,
    options: { platform?: string; auth?: RegistryCredentials },
    onProgress: (progress: PullProgress) => void
  ): Promise<void> {
    const query = {
      ...(options.platform ? { platform: options.platform } : {}),
      ...(options.auth ? { authconfig: options.auth } : {})
    }
    try {
      if (this.abandoned) throw this.abandoned
      const stream = this.track((await this.docker.pull(ref, query)) as NodeJS.ReadableStream)
      await this.follow(stream, (event) => {
        if (typeof event.status === 'string') {
          onProgress({ status: event.status, ...(event.id ? { id: String(event.id) } : {}) })
        }
      })
    } catch (error) {
      const lost = this.lostOr(error)
      if (lost instanceof EngineLostError) throw lost
      const message = messageOf(error)
      if (REGISTRY_AUTH_REFUSED.test(message)) throw new RegistryAuthError(message)
      throw new Error(message)
    }
  }

  async buildImage(
    context: NodeJS.ReadableStream,
    options: BuildOptions,
    onOutput: (line: string) => void
  ): Promise<void> {
    if (this.abandoned) throw this.abandoned
    const building = this.docker.buildImage(context, {
      t: options.tag,
      dockerfile: options.dockerfile,
      buildargs: options.args,
      ...(options.pull ? { pull: 'true' } : {}),
      ...(options.target ? { target: options.target } : {}),
      ...(options.platform ? { platform: options.platform } : {}),
      // Intermediate containers go; intermediate images stay: they are the build cache.
      rm: true,
      forcerm: true,
      ...(options.signal ? { abortSignal: options.signal } : {})
    } as Docker.ImageBuildOptions)
    // A closed request shows as a broken connection: after a cancel it is not a lost engine.
    const failure = (error: unknown) =>
      options.signal?.aborted ? new BuildCancelledError(`build ${options.tag} cancelled`) : error
    const stream = this.track(
      await building.catch((e: unknown) => Promise.reject(this.lostOr(failure(e))))
    )
    await this.follow(
      stream,
      (event) => {
        if (typeof event.stream === 'string') {
          for (const line of event.stream.split('\n')) if (line.trim()) onOutput(line.trimEnd())
        }
      },
      failure
    )
  }

  /**
   * Reads a stream of JSON messages (pull, build) to its end; a message with `error`
   * (a failed step, a refused pull) rejects, as the docker CLI would fail.
   */
  private follow(
    stream: NodeJS.ReadableStream,
    onEvent: (event: ProgressEvent) => void,
    failure: (error: unknown) => unknown = (error) => error
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let failed: Error | undefined
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) =>
          err ? reject(this.lostOr(failure(err))) : failed ? reject(failed) : resolve(),
        (event: ProgressEvent) => {
          const error = event.errorDetail?.message ?? event.error
          if (error) failed ??= new Error(error)
          else onEvent(event)
        }
      )
    })
  }

  async createContainer(plan: ContainerPlan): Promise<string> {
    // dockerode sends top-level options as query parameters too: `name` and `platform`.
    const options = {
      name: plan.name,
      ...(plan.platform ? { platform: plan.platform } : {}),
      ...createBody(plan)
    } as Docker.ContainerCreateOptions
    const { id } = await this.call('create container', (o) =>
      this.docker.createContainer({ ...options, ...o })
    )
    this.live.add(id)
    return id
  }

  async makeDirectories(containerId: string, root: string, dirs: string[]): Promise<void> {
    const pack = tar.pack()
    for (const dir of dirs) {
      pack.entry({ name: `${path.posix.relative(root, dir)}/`, type: 'directory', mode: 0o777 })
    }
    pack.finalize()
    const archive = await collect(pack)
    await this.call('upload folders', (o) =>
      this.docker.getContainer(containerId).putArchive(archive, { path: root, ...o })
    )
  }

  async startContainer(containerId: string): Promise<void> {
    await this.call('start container', (o) => this.docker.getContainer(containerId).start(o))
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

  async exec(
    containerId: string,
    cmd: string[],
    env: string[],
    onOutput: OutputHandler
  ): Promise<number> {
    const exec = await this.call('create exec', (o) =>
      this.docker.getContainer(containerId).exec({
        Cmd: cmd,
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

  /**
   * Hands on a container's output in the order it was written. While the handler asks to
   * wait, the socket is paused: the container then blocks on a full pipe, as it would
   * writing to a slow terminal, and nothing piles up here.
   */
  private pump(stream: NodeJS.ReadableStream, onOutput: OutputHandler): Promise<void> {
    this.track(stream)
    let waits = 0
    const demux = streamDemuxer((name, payload) => {
      const wait = onOutput(name, payload)
      if (!wait) return
      if (waits++ === 0) stream.pause()
      void wait.finally(() => {
        if (--waits === 0) stream.resume()
      })
    })
    stream.on('data', demux)
    return new Promise((resolve, reject) => {
      stream.on('end', resolve)
      stream.on('close', resolve)
      stream.on('error', (error) => reject(this.lostOr(error)))
    })
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

  async killContainer(containerId: string): Promise<void> {
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

  async readFiles(
    containerId: string,
    dirPath: string,
    limitBytes: number
  ): Promise<Map<string, string>> {
    const files = new Map<string, string>()
    const archive = await this.archive(containerId, dirPath)
    if (!archive) return files
    const extract = tar.extract()
    await new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, entry, next) => {
        // The tar header says the size: a 600 MB file is refused without reading it.
        if ((header.size ?? 0) > limitBytes) {
          const name = header.name.split('/').filter(Boolean).at(-1) ?? header.name
          reject(new FileTooLargeError(name, header.size ?? 0, limitBytes))
          // Stopped without an error of their own: the rejection above is the one reported.
          entry.on('error', () => undefined)
          extract.on('error', () => undefined)
          ;(archive as unknown as { destroy(): void }).destroy()
          extract.destroy()
          return
        }
        const chunks: Buffer[] = []
        entry.on('data', (chunk: unknown) => chunks.push(chunk as Buffer))
        entry.on('end', () => {
          // Entries are named `<folder>/<file>`; deeper ones are not this folder's files.
          const parts = header.name.split('/').filter(Boolean)
          if (header.type === 'file' && parts.length === 2)
            files.set(parts[1], Buffer.concat(chunks).toString('utf8'))
          next()
        })
        entry.resume()
      })
      extract.on('finish', resolve)
      extract.on('error', reject)
      archive.pipe(extract)
    })
    return files
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
  }

  async killContainers(runId: string): Promise<void> {
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

  /**
   * Removes a volume or network that containers may still hold for a moment: the engine
   * answers a removal before it has let go of a removed container's mounts and endpoints.
   */
  private async removeInUse(
    what: string,
    remove: (o: { abortSignal: AbortSignal }) => Promise<unknown>,
    inUse: number
  ): Promise<void> {
    const deadline = Date.now() + IN_USE_TIMEOUT_MS
    for (;;) {
      try {
        await this.call(what, remove)
        return
      } catch (error) {
        if (statusOf(error) === 404) return
        if (statusOf(error) !== inUse || Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }

  async removeResources(runId?: string): Promise<RemovedCounts> {
    const label = runId ? `${LABEL_RUN_ID}=${runId}` : `${LABEL_MANAGED}=true`
    const filters = JSON.stringify({ label: [label] })
    const containers = await this.call('list containers', (o) =>
      this.docker.listContainers({ all: true, filters, ...o })
    )
    await Promise.all(containers.map((c) => this.removeContainer(c.Id)))
    // Once the containers are gone, volumes, networks and images do not depend on each
    // other: removing a network alone takes the engine about 200 ms.
    const [volumes, networks, images] = await Promise.all([
      this.removeEach(
        (await this.call('list volumes', (o) => this.docker.listVolumes({ filters, ...o })))
          .Volumes ?? [],
        // 409: a volume still in use.
        (v) =>
          this.removeInUse('remove volume', (o) => this.docker.getVolume(v.Name).remove(o), 409)
      ),
      this.removeEach(
        await this.call('list networks', (o) => this.docker.listNetworks({ filters, ...o })),
        // 403: a network with endpoints still attached.
        (n) =>
          this.removeInUse('remove network', (o) => this.docker.getNetwork(n.Id).remove(o), 403)
      ),
      this.removeEach(
        (
          await this.call('list images', (o) =>
            this.docker.listImages({ filters: BUILT_IMAGES, ...o })
          )
        )
          .flatMap((i) => i.RepoTags ?? [])
          .filter((tag) => isBuiltTag(tag, runId)),
        (tag) =>
          ignoreMissing(
            this.call('remove image', (o) =>
              this.docker.getImage(tag).remove({ noprune: true, ...o })
            )
          )
      )
    ])
    return { containers: containers.length, volumes, networks, images }
  }

  /** Removes every item at once; resolves to how many there were. */
  private async removeEach<T>(items: T[], remove: (item: T) => Promise<unknown>): Promise<number> {
    await Promise.all(items.map(remove))
    return items.length
  }
}

/** A message of the engine's pull or build stream. */
interface ProgressEvent {
  status?: unknown
  id?: unknown
  stream?: unknown
  error?: string
  errorDetail?: { message?: string }
}

/** How engines word a registry's refusal of credentials (or a demand for them). */
const REGISTRY_AUTH_REFUSED =
  /unauthorized|authentication required|no basic auth credentials|incorrect username or password/i

/** Where a container's memory cgroup counts OOM kills: cgroup v1, then v2. */
const CGROUP_MEMORY_EVENTS = [
  '/sys/fs/cgroup/memory/memory.oom_control',
  '/sys/fs/cgroup/memory.events'
]

/**
 * Images a run builds are tagged `ctr-pipeline-build/<job>:<run id>-<hash>` rather than
 * labelled: a label would be baked into a layer of the build cache, and outlive the run.
 */
const BUILT_IMAGES = JSON.stringify({ reference: [`${BUILT_IMAGE_REPO}/*`] })

function isBuiltTag(tag: string, runId?: string): boolean {
  const version = tag.slice(tag.lastIndexOf(':') + 1)
  return tag.startsWith(`${BUILT_IMAGE_REPO}/`) && (!runId || version.startsWith(`${runId}-`))
}

/** How long a volume or network may stay in use by containers that are being removed. */
const IN_USE_TIMEOUT_MS = 5000

/** How a broken connection to the engine shows, on the error or its cause. */
const CONNECTION_LOST = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ENOENT',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE'
])

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode
}

/** The engine's own message for a failed call, without dockerode's HTTP preamble. */
export function messageOf(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json
  return json?.message ?? (error as Error).message ?? String(error)
}

async function ignoreMissing(operation: Promise<unknown>): Promise<void> {
  try {
    await operation
  } catch (error) {
    // Already gone (404) or already being removed (409): either way it will not be left.
    if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error
  }
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
