import type Docker from 'dockerode'
import type { RegistryCredentials } from '../../plan/image-plan.js'
import { BuildCancelledError, EngineLostError } from '../backend.js'
import { decodeBuildkitStatus, type BuildkitStatus } from './buildkit-status.js'
import { messageOf, statusOf, type EngineConnection } from './connection.js'
import {
  RegistryAuthError,
  type BuildOptions,
  type Builder,
  type ImageEngine,
  type PullProgress,
  type PushEngine
} from './images.js'
import { removeTag } from './sweep.js'

/**
 * The engine's image calls (inspect, pull, build, push, tag) over a connection it shares
 * with its backend: a Docker backend and a Swarm backend's manager each have one, so an
 * engine lost while building is lost for the backend too.
 */
export class ImageClient implements ImageEngine, PushEngine {
  /** Whether the engine builds with BuildKit: unknown until the first build asks it. */
  private buildkit: boolean | undefined
  /** Why it does not, as the engine said. */
  private noBuildkit: string | undefined

  constructor(private readonly engine: EngineConnection) {}

  async imageExists(ref: string, platform?: string): Promise<boolean> {
    try {
      const image = await this.engine.call('inspect image', () =>
        this.engine.docker.getImage(ref).inspect()
      )
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
      if (this.engine.abandoned) throw this.engine.abandoned
      const stream = this.engine.track(
        (await this.engine.docker.pull(ref, query)) as NodeJS.ReadableStream
      )
      await this.follow(stream, (event) => {
        if (typeof event.status === 'string') {
          const { current, total } = event.progressDetail ?? {}
          onProgress({
            status: event.status,
            ...(event.id ? { id: String(event.id) } : {}),
            ...(typeof current === 'number' ? { current } : {}),
            ...(typeof total === 'number' ? { total } : {})
          })
        }
      })
    } catch (error) {
      throw this.registryFailure(error)
    }
  }

  /** A pull's or push's failure: the engine lost, the registry's refusal of credentials, or why. */
  private registryFailure(error: unknown): Error {
    const lost = this.engine.lostOr(error)
    if (lost instanceof EngineLostError) return lost
    const message = messageOf(error)
    return REGISTRY_AUTH_REFUSED.test(message) ? new RegistryAuthError(message) : new Error(message)
  }

  async buildImage(
    context: () => NodeJS.ReadableStream | Promise<NodeJS.ReadableStream>,
    options: BuildOptions,
    onOutput: (line: string) => void
  ): Promise<Builder> {
    if (this.buildkit !== false) {
      let heard = false
      try {
        await this.build(await context(), options, 'buildkit', onOutput, () => (heard = true))
        this.buildkit = true
        return { name: 'buildkit' }
      } catch (error) {
        // An engine without BuildKit refuses the request before any step: build classic.
        if (heard || this.buildkit === true || error instanceof BuildCancelledError) throw error
        if (error instanceof EngineLostError) throw error
        this.buildkit = false
        this.noBuildkit = messageOf(error)
      }
    }
    await this.build(await context(), options, 'classic', onOutput, () => {})
    return { name: 'classic', ...(this.noBuildkit ? { why: this.noBuildkit } : {}) }
  }

  private async build(
    context: NodeJS.ReadableStream,
    options: BuildOptions,
    builder: Builder['name'],
    onOutput: (line: string) => void,
    onTrace: () => void
  ): Promise<void> {
    if (this.engine.abandoned) throw this.engine.abandoned
    const building = this.engine.docker.buildImage(context, {
      t: options.tag,
      dockerfile: options.dockerfile,
      buildargs: options.args,
      ...(options.pull ? { pull: 'true' } : {}),
      ...(options.target ? { target: options.target } : {}),
      ...(options.platform ? { platform: options.platform } : {}),
      ...(builder === 'buildkit' ? { version: '2' } : {}),
      // Intermediate containers go; intermediate images stay: they are the build cache.
      rm: true,
      forcerm: true,
      ...(options.signal ? { abortSignal: options.signal } : {})
    } as Docker.ImageBuildOptions)
    // A closed request shows as a broken connection: after a cancel it is not a lost engine.
    const failure = (error: unknown) =>
      options.signal?.aborted ? new BuildCancelledError(`build ${options.tag} cancelled`) : error
    const stream = this.engine.track(
      await building.catch((e: unknown) => Promise.reject(this.engine.lostOr(failure(e))))
    )
    const steps = new BuildkitSteps(onOutput)
    await this.follow(
      stream,
      (event) => {
        if (event.id === 'moby.buildkit.trace' && typeof event.aux === 'string') {
          onTrace()
          steps.add(decodeBuildkitStatus(event.aux))
        } else if (typeof event.stream === 'string') {
          for (const line of event.stream.split('\n')) if (line.trim()) onOutput(line.trimEnd())
        }
      },
      failure
    )
  }

  async tagImage(ref: string, target: string): Promise<void> {
    // A colon after the last slash starts the tag; `localhost:5000/x` has none (latest).
    const colon = target.lastIndexOf(':')
    const tagged = colon > target.lastIndexOf('/')
    const repo = tagged ? target.slice(0, colon) : target
    const tag = tagged ? target.slice(colon + 1) : 'latest'
    await this.engine.call('tag image', (o) =>
      this.engine.docker.getImage(ref).tag({ repo, tag, ...o })
    )
  }

  async pushImage(
    ref: string,
    auth: RegistryCredentials | undefined,
    onProgress: (progress: PullProgress) => void = () => {}
  ): Promise<string> {
    if (this.engine.abandoned) throw this.engine.abandoned
    // The engine wants the header even for a registry without credentials.
    const authconfig = auth ?? { serveraddress: ref.slice(0, ref.indexOf('/')) }
    let digest: string | undefined
    try {
      const stream = this.engine.track(
        (await this.engine.docker.getImage(ref).push({ authconfig })) as NodeJS.ReadableStream
      )
      await this.follow(stream, (event) => {
        if (typeof event.aux === 'object' && typeof event.aux.Digest === 'string')
          digest = event.aux.Digest
        else if (typeof event.status === 'string')
          onProgress({
            status: event.status,
            ...(typeof event.id === 'string' ? { id: event.id } : {})
          })
      })
    } catch (error) {
      throw this.registryFailure(error)
    }
    if (!digest) throw new Error('the registry gave no digest')
    return digest
  }

  untagImage(ref: string): Promise<void> {
    return removeTag(this.engine.docker, this.engine.call, ref)
  }

  /**
   * Reads a stream of JSON messages (pull, build, push) to its end; a message with `error`
   * (a failed step, a refused pull) rejects, as the docker CLI would fail.
   */
  private follow(
    stream: NodeJS.ReadableStream,
    onEvent: (event: ProgressEvent) => void,
    failure: (error: unknown) => unknown = (error) => error
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let failed: Error | undefined
      this.engine.docker.modem.followProgress(
        stream,
        (err: Error | null) =>
          err ? reject(this.engine.lostOr(failure(err))) : failed ? reject(failed) : resolve(),
        (event: ProgressEvent) => {
          const error = event.errorDetail?.message ?? event.error
          if (error) failed ??= new Error(error)
          else onEvent(event)
        }
      )
    })
  }
}

/** A message of the engine's pull or build stream. */
interface ProgressEvent {
  status?: unknown
  id?: unknown
  stream?: unknown
  error?: string
  errorDetail?: { message?: string }
  /** A layer's bytes so far, of its total, while it downloads or extracts. */
  progressDetail?: { current?: unknown; total?: unknown }
  /** A push's last message (what the registry named the image), or a BuildKit status. */
  aux?: { Digest?: unknown } | string
}

/** How engines word a registry's refusal of credentials (or a demand for them). */
const REGISTRY_AUTH_REFUSED =
  /unauthorized|authentication required|no basic auth credentials|incorrect username or password/i

/**
 * BuildKit's status messages as build lines: each step once as it starts (`CACHED` first
 * when the cache had it), its output lines, and `ERROR` with the step's error. Steps of
 * its own bookkeeping (`[internal] ...`) are shown only when they fail.
 */
class BuildkitSteps {
  private readonly names = new Map<string, string>()
  private readonly shown = new Set<string>()
  private readonly failed = new Set<string>()

  constructor(private readonly onOutput: (line: string) => void) {}

  add(status: BuildkitStatus): void {
    for (const v of status.vertexes) {
      if (v.name) this.names.set(v.digest, v.name)
      const internal = v.name.startsWith('[internal]')
      if ((v.started || v.cached) && !internal && !this.shown.has(v.digest)) {
        this.shown.add(v.digest)
        this.onOutput(v.cached ? `CACHED ${v.name}` : v.name)
      }
      if (v.error && !this.failed.has(v.digest)) {
        this.failed.add(v.digest)
        this.onOutput(`ERROR ${v.name}: ${v.error}`)
      }
    }
    for (const log of status.logs)
      for (const line of log.text.split('\n')) if (line.trim()) this.onOutput(line.trimEnd())
  }
}
