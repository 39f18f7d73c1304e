import type { ContainerPlan } from '../plan/container-plan.js'
import type { ImageSource } from '../plan/image-plan.js'
import type { StageBatch } from '../plan/stage-batches.js'

/** Which of a process's streams a chunk of output came from. */
export type OutputStream = 'stdout' | 'stderr'

/**
 * Takes a chunk of a container's output. A promise it returns pauses the output until it
 * settles: how a reporter that cannot keep up holds the container back.
 */
export type OutputHandler = (stream: OutputStream, chunk: Buffer) => void | Promise<void>

/** What a backend tells the user while it works: pulls, builds, what it worked around. */
export interface BackendEvents {
  info(message: string): void
  warning(message: string): void
  /**
   * A line that changes in place under `key` (a pull's layers and bytes); no text takes it
   * away. Only a reporter that writes to a terminal has it: others get `info` lines.
   */
  progress?: (key: string, text?: string) => void
}

/** What getting an image ready takes from the run. */
export interface ImageRun {
  events: BackendEvents
  /** The environment the run was started in (`DOCKER_CONFIG`: where credentials are). */
  env: Record<string, string | undefined>
  /**
   * Read no credentials from the Docker config file or its helpers: without `auth:`, pulls
   * are anonymous (untrusted runs must not use the runner's logins).
   */
  anonymous?: boolean
  /** The run's cancel: a build in flight stops. */
  signal?: AbortSignal
}

/** The backend could not be reached at all: exit status 3, with how to start one. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError'
}

/**
 * The backend stopped answering, or its connection broke (reset, closed), in the middle
 * of something: exit status 3. What the run created may still be there.
 */
export class EngineLostError extends EngineUnavailableError {
  override name = 'EngineLostError'
}

/**
 * A call the backend refused: `message` is its own words (no transport preamble), and
 * `statusCode` its status where it has one (404: no such thing, 409: conflict).
 */
export class BackendError extends Error {
  override name = 'BackendError'

  constructor(
    message: string,
    readonly statusCode?: number,
    options?: ErrorOptions
  ) {
    super(message, options)
  }
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

/** A build stopped by the run's cancel: not a failure of the build, nor a lost backend. */
export class BuildCancelledError extends Error {
  override name = 'BuildCancelledError'
}

/** What a sweep removed. */
export interface RemovedCounts {
  containers: number
  volumes: number
  networks: number
  /** Tags of images the run built. */
  images: number
}

/** What a run left in place (`--keep`), by name, as `docker ps` and friends show it. */
export interface KeptResources {
  containers: string[]
  volumes: string[]
  networks: string[]
}

/** A container that ran its own command finished: its exit code, and whether memory killed it. */
export interface ContainerExit {
  exitCode: number
  oomKilled: boolean
}

/** How a service container is doing. */
export interface ContainerHealth {
  running: boolean
  exitCode: number
  /** Its health check's verdict; `none` for a container without one. */
  health: 'starting' | 'healthy' | 'unhealthy' | 'none'
  /** What the last health check printed. */
  lastCheck?: string
}

/** A volume of the run: the workspace, or one of the file's top-level `volumes:`. */
export interface VolumePlan {
  /** Its key in the file (`workspace` for the run's own). */
  key: string
  /** Its name on the backend. */
  name: string
  labels: Record<string, string>
  driver?: string
  driverOptions?: Record<string, string>
  /** It must exist already, and is neither created nor removed. */
  external: boolean
}

/** What a run needs before its first job: its volumes and its network. */
export interface RunSetup {
  runId: string
  volumes: VolumePlan[]
  network: { name: string; labels: Record<string, string> }
}

/**
 * What the scheduler needs from the thing that runs containers, and nothing more: a
 * backend (`docker/`, `swarm/`; `fake/` for the scheduler's tests) implements it, and
 * only backends talk to an engine.
 *
 * Levels, in the order a run uses them:
 * - run: `ping`, `setupRun`, `prepareImage`, then at the end `sweep` (or `killRun` on an
 *   interrupt with `--keep`);
 * - job: `createContainer`, `makeDirectories`, `startContainer` (or `runContainer` for a
 *   job that runs its own command), `kill`/`removeContainer`; services add
 *   `createNetwork`, `connectNetwork`, `health`, `logTail`, `removeNetwork`;
 * - stage: `exec` streams a stage's output and resolves to its exit code (`killStage`
 *   stops it at its timeout); `runBatch` runs stages that need nothing of each other's
 *   results as one typed batch, which each backend renders its own way; `readFiles`, `archive`, `workingDir` and `memoryKills`
 *   read what it left.
 *
 * Guarantees every backend gives (the scheduler relies on them; the fake backend in
 * `fake/` keeps them too, and its tests check the scheduler against them):
 * - Every call may run concurrently with any other, for different containers or the same.
 * - Every call that is not a stream gives up after a bounded time; when the backend stops
 *   answering or its connection breaks, the call rejects with EngineLostError, listeners
 *   of `onLost` hear it once, every open stream ends, and every later call rejects at once
 *   with the same error.
 * - Removals are idempotent: removing a container, network or volume that is gone (or
 *   going) succeeds. `kill` of a stopped or removed container succeeds.
 * - `sweep` and `killRun` are safe after an abort, in any state, and more than once; they
 *   find what the run created by its labels (`ctr-pipeline.run-id`), not by memory, so
 *   they also clean up after a process that was killed.
 * - Whatever a backend creates carries the plan's labels, or the run's labels
 *   (`ctr-pipeline.managed`, `ctr-pipeline.run-id`) where the plan has none.
 */
export interface Backend {
  /** Its name, as `--backend` takes it. */
  readonly name: string
  /** Where it runs, for the first line of a run: `unix:///var/run/docker.sock (context colima)`. */
  where(): string
  /** Checks that the backend answers; throws EngineUnavailableError when it does not. */
  ping(): Promise<void>
  /**
   * The most CPUs a container may be limited to: one engine's count, above which it
   * refuses to create the container. Left out where nodes differ (a Swarm places a task
   * only where it fits, and says when none does).
   */
  cpuCount?(): Promise<number>
  /**
   * Creates the run's volumes and network, all labelled; an external volume must exist
   * (one that does not is an Error naming it and how to create it). Called once per run.
   */
  setupRun(run: RunSetup): Promise<void>
  /**
   * Makes an image ready to run: found, pulled (by its policy, with credentials) or built
   * and tagged for the run. Rejects with one line saying why not; a build stopped through
   * `run.signal` rejects with BuildCancelledError. The scheduler calls it once per image.
   * A build with `push` is pushed under its name: resolves to what the registry holds,
   * `name@sha256:…`; otherwise to undefined.
   */
  prepareImage(image: ImageSource, run: ImageRun): Promise<string | undefined>
  /** The labels of an image made ready (`process.NAME=COMMAND` names its processes). */
  imageLabels(ref: string): Promise<Record<string, string>>
  /** Creates a container as planned (not started); resolves to its id. */
  createContainer(plan: ContainerPlan): Promise<string>
  /**
   * Creates folders (mode 0777, so any container user can write) before the container
   * starts; `dirs` are absolute paths inside the mount at `root`.
   */
  makeDirectories(containerId: string, root: string, dirs: string[]): Promise<void>
  /** Starts a created container (or restarts a stopped one). */
  startContainer(containerId: string): Promise<void>
  /** Starts a container that runs its own command, streams its output, waits for its end. */
  runContainer(containerId: string, onOutput: OutputHandler): Promise<ContainerExit>
  /** Runs a command in a running container, streaming its output; resolves to its exit code. */
  exec(containerId: string, cmd: string[], env: string[], onOutput: OutputHandler): Promise<number>
  /**
   * Runs a batch's stages one after another in a running container, each with its own
   * environment, stopping after the first that fails unless it may continue on error.
   * After each stage it writes the batch's end line (StageBatch) to stdout and to stderr;
   * the stream carries the stages' output in order. Resolves to the exit code of what ran
   * the batch (0 unless that failed: each stage's is in its end line).
   */
  runBatch(containerId: string, batch: StageBatch, onOutput: OutputHandler): Promise<number>
  /**
   * How many times a process of this running container was killed for memory so far;
   * undefined when the backend cannot tell. The scheduler compares it around a stage.
   */
  memoryKills(containerId: string): Promise<number | undefined>
  /**
   * The text of each file right inside a folder of a container, by file name, read in one
   * call; empty when the folder does not exist. A file larger than `limitBytes` rejects
   * with FileTooLargeError before any of it is read.
   */
  readFiles(containerId: string, dirPath: string, limitBytes: number): Promise<Map<string, string>>
  /**
   * A tar stream of a file or folder in a container (running or stopped), entries named
   * from the path's last part, as `docker cp` gives it. Undefined when it does not exist.
   * A backend that cannot copy out of an ended container (swarm) has only the folders of
   * the plan's `artifacts`, as its last task left them.
   */
  archive(containerId: string, filePath: string): Promise<NodeJS.ReadableStream | undefined>
  /** The container's working folder: its plan's, else the image's, else `/`. */
  workingDir(containerId: string): Promise<string>
  /** Creates a network of the run, where containers reach each other by their aliases. */
  createNetwork(name: string, labels: Record<string, string>): Promise<void>
  /** Connects a created container to a network, where `aliases` resolve to it. */
  connectNetwork(containerId: string, network: string, aliases: string[]): Promise<void>
  removeNetwork(name: string): Promise<void>
  /** Whether a container runs, and its health check's verdict. */
  health(containerId: string): Promise<ContainerHealth>
  /** The last lines a container wrote (stdout and stderr). */
  logTail(containerId: string, lines: number): Promise<string[]>
  /** Kills (SIGKILL) one container and resolves once it has stopped. */
  kill(containerId: string): Promise<void>
  /**
   * Kills the stage running in a container (a timeout): its `exec` then settles soon.
   * Resolves to what died: `'stage'`, its processes only, the container running on; or
   * `'container'`, killed with it (a backend that cannot kill a stage alone), to be
   * started again before another stage runs.
   */
  killStage(containerId: string): Promise<'stage' | 'container'>
  removeContainer(containerId: string): Promise<void>
  /** Kills the run's running containers and leaves them in place (an interrupt with --keep). */
  killRun(runId: string): Promise<void>
  /** The names of what the run left on the backend, found by its label (`--keep` lists them). */
  kept(runId: string): Promise<KeptResources>
  /**
   * Removes every container, then every volume and network, labelled with the run id, and
   * the images it built; with no run id, everything ctr-pipeline made on this backend.
   */
  sweep(runId?: string): Promise<RemovedCounts>
  /** Calls `listener` once, the first time the backend is lost; returns how to stop listening. */
  onLost(listener: (error: EngineLostError) => void): () => void
  /** Containers created through this object and not seen removed: what a lost backend may keep. */
  liveContainers(): number
}

/** What an error says, for a message to the user: backends give theirs in their own words. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
