import Docker from 'dockerode'
import { InputError } from '../../pipeline/input-error.js'
import {
  BackendError,
  EngineLostError,
  EngineUnavailableError,
  type OutputHandler
} from '../backend.js'
import { resolveEngine, type EngineEndpoint } from './engine-endpoint.js'
import { streamDemuxer } from './stream-demux.js'

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

/** Where the engine is and how long its calls may take: what a backend connects with. */
export interface EngineSettings {
  endpoint: EngineEndpoint
  /** A Docker context that could not be read: `ping` says so, as nothing can be reached. */
  unresolved?: EngineUnavailableError
  /** How long a call that is not a stream may take. */
  timeoutMs: number
}

/**
 * The engine the docker CLI would talk to in this environment (resolveEngine), with
 * `$CTR_ENGINE_TIMEOUT`: read once, by the app, and handed to the backend.
 */
export function engineSettings(
  env: Record<string, string | undefined>,
  home: string
): EngineSettings {
  const timeoutMs = engineTimeoutFromEnv(env)
  try {
    return { endpoint: resolveEngine(env, home), timeoutMs }
  } catch (error) {
    if (!(error instanceof EngineUnavailableError)) throw error
    return { endpoint: { host: 'unknown', source: 'unresolved' }, unresolved: error, timeoutMs }
  }
}

/** Where a dockerode client made elsewhere talks to, as DOCKER_HOST writes it. */
function modemHost(docker: Docker): string {
  const modem = docker.modem as {
    socketPath?: unknown
    protocol?: string
    host?: string
    port?: unknown
  }
  if (typeof modem.socketPath === 'string') return `unix://${modem.socketPath}`
  return `${modem.protocol === 'ssh' ? 'ssh' : 'tcp'}://${modem.host ?? 'localhost'}:${String(modem.port ?? '')}`
}

/** An image on the engine, as `images` lists it. */
export interface EngineImage {
  id: string
  /** Its names (`repo:tag`); empty for an untagged image. */
  refs: string[]
  labels: Record<string, string>
}

/** What a call to the engine is given for dockerode's options. */
export type CallOptions = { abortSignal: AbortSignal }

/** One call to the engine that is not a stream, with its timeout (see EngineConnection.call). */
export type EngineCall = <T>(what: string, run: (o: CallOptions) => Promise<T>) => Promise<T>

/**
 * A dockerode connection that never hangs and knows when it has lost the engine: every
 * call that is not a stream gives up after `timeoutMs` (an engine, or a proxy in front of
 * it, that stops answering must not hang the run, nor its cleanup); a broken connection
 * or a call that times out is an EngineLostError, after which nothing reaches the engine.
 */
export class EngineConnection {
  /** The dockerode client: for the clients that share this connection (ImageClient). */
  readonly docker: Docker
  protected readonly timeoutMs: number
  /** Where the engine is. */
  readonly endpoint: EngineEndpoint
  /** A Docker context that could not be read: `ping` says so, as nothing can be reached. */
  private readonly unresolved: EngineUnavailableError | undefined
  /** Why the engine was given up on, once it was: every later call fails with it. */
  abandoned: EngineLostError | undefined
  private readonly streams = new Set<NodeJS.ReadableStream>()
  private readonly lostListeners = new Set<(error: EngineLostError) => void>()

  /**
   * Connects where `engine` says (engineSettings), or through a dockerode client made
   * elsewhere (a test's, a lab node's), whose calls then give up after `timeoutMs`.
   */
  constructor(engine: EngineSettings | Docker, options: { timeoutMs?: number } = {}) {
    if (engine instanceof Docker) {
      this.endpoint = { host: modemHost(engine), source: 'given' }
      this.docker = engine
      this.timeoutMs = options.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS
    } else {
      this.endpoint = engine.endpoint
      this.unresolved = engine.unresolved
      this.docker = new Docker(engine.endpoint.options)
      this.timeoutMs = options.timeoutMs ?? engine.timeoutMs
    }
  }

  /** What the first line of a run says of where it runs. */
  where(): string {
    const why = this.endpoint.source.startsWith('context ') ? ` (${this.endpoint.source})` : ''
    return `${this.endpoint.host}${why}`
  }

  /**
   * One call to the engine that is not a stream, given `abortSignal` for dockerode's
   * options: it ends at the timeout, and a connection that breaks is said as such.
   */
  readonly call: EngineCall = async (what, run) => {
    if (this.abandoned) throw this.abandoned
    const abortSignal = AbortSignal.timeout(this.timeoutMs)
    // Not every dockerode call honours the signal: the race ends those that do not.
    const timedOut = new Promise<never>((_, reject) =>
      abortSignal.addEventListener('abort', () => reject(new Error('timed out')), { once: true })
    )
    // The race below reports the timeout; this copy of it has no one else to tell.
    timedOut.catch(() => undefined)
    try {
      return await Promise.race([run({ abortSignal }), timedOut])
    } catch (error) {
      if (abortSignal.aborted)
        throw this.lose(
          new EngineLostError(
            `the Docker engine at ${this.endpoint.host} did not answer (${what}) within ${this.timeoutMs / 1000} s`
          )
        )
      throw this.lostOr(error)
    }
  }

  /** The engine's images: id, names and labels; `ref` limits it to that one image. */
  async images(ref?: string): Promise<EngineImage[]> {
    if (ref !== undefined) {
      const info = await this.call('inspect image', () => this.docker.getImage(ref).inspect())
      return [{ id: info.Id, refs: info.RepoTags ?? [], labels: info.Config?.Labels ?? {} }]
    }
    const list = await this.call('list images', () => this.docker.listImages())
    return list.map((i) => ({
      id: i.Id,
      // An untagged image is listed as `<none>:<none>`: it has no name.
      refs: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      labels: i.Labels ?? {}
    }))
  }

  async imageLabels(ref: string): Promise<Record<string, string>> {
    const info = await this.call('inspect image', () => this.docker.getImage(ref).inspect())
    return info.Config?.Labels ?? {}
  }

  /** Checks that the engine answers; throws EngineUnavailableError, saying how to start one. */
  async ping(): Promise<void> {
    if (this.unresolved) throw this.unresolved
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
        `cannot reach the Docker engine at ${this.endpoint.host} (${reason}): start one ` +
          `(sudo systemctl start docker, or sudo dockerd &) or point DOCKER_HOST at one`,
        { cause: error }
      )
    }
  }

  /**
   * Hands on a container's output in the order it was written. While the handler asks to
   * wait, the socket is paused: the container then blocks on a full pipe, as it would
   * writing to a slow terminal, and nothing piles up here.
   */
  pump(stream: NodeJS.ReadableStream, onOutput: OutputHandler): Promise<void> {
    this.demux(stream, onOutput)
    return new Promise((resolve, reject) => {
      stream.on('end', resolve)
      stream.on('close', resolve)
      stream.on('error', (error) => reject(this.lostOr(error)))
    })
  }

  /** Hands on a tracked stream's output as `pump` does; its end is the caller's to watch. */
  protected demux(stream: NodeJS.ReadableStream, onOutput: OutputHandler): void {
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
  }

  onLost(listener: (error: EngineLostError) => void): () => void {
    this.lostListeners.add(listener)
    return () => this.lostListeners.delete(listener)
  }

  /** Gives up on the engine (once) and says so; returns the error every later call gets. */
  protected lose(reason: EngineLostError): EngineLostError {
    if (this.abandoned) return this.abandoned
    this.abandoned = reason
    for (const stream of this.streams)
      (stream as unknown as { destroy(e?: Error): void }).destroy(reason)
    this.streams.clear()
    for (const listener of this.lostListeners) listener(reason)
    return reason
  }

  /**
   * An error that says the connection to the engine broke loses it; an answer of the
   * engine's becomes a BackendError in its own words; any other error is itself.
   */
  lostOr(error: unknown): unknown {
    if (error instanceof EngineLostError) return this.lose(error)
    const err = error as NodeJS.ErrnoException | undefined
    const code = err?.code ?? (err?.cause as NodeJS.ErrnoException | undefined)?.code
    const status = statusOf(error)
    if (code && CONNECTION_LOST.has(code) && status === undefined)
      return this.lose(
        new EngineLostError(`lost the Docker engine at ${this.endpoint.host} (${code})`, {
          cause: error
        })
      )
    if (status !== undefined && !(error instanceof BackendError))
      return new BackendError(messageOf(error), status, { cause: error })
    return error
  }

  /** A stream that losing the engine ends. */
  track<S extends NodeJS.ReadableStream>(stream: S): S {
    this.streams.add(stream)
    const forget = () => this.streams.delete(stream)
    stream.once('end', forget)
    stream.once('close', forget)
    return stream
  }
}

/** How a broken connection to the engine shows, on the error or its cause. */
const CONNECTION_LOST = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ENOENT',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE'
])

/** The HTTP status of an engine's answer (dockerode's errors and ours carry it). */
export function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode
}

/** The engine's own message for a failed call, without dockerode's HTTP preamble. */
export function messageOf(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json
  return json?.message ?? (error as Error).message ?? String(error)
}

/** Waits for a removal; one of something already gone (404) or going (409) is done. */
export async function ignoreMissing(operation: Promise<unknown>): Promise<void> {
  try {
    await operation
  } catch (error) {
    if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error
  }
}
