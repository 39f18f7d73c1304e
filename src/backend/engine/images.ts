import { stat } from 'node:fs/promises'
import path from 'node:path'
import {
  DOCKER_HUB,
  registryOf,
  type BuiltImage,
  type ImageSource,
  type PulledImage,
  type RegistryCredentials
} from '../../plan/image-plan.js'
import { BuildCancelledError, type ImageRun } from '../backend.js'
import { buildContext } from './build-context.js'
import { messageOf } from './connection.js'
import { credentialsFromDockerConfig } from './docker-config.js'

/**
 * The lines of a build that say which step it is at: the classic builder's `Step 2/5 :`
 * and ` ---> Using cache`, BuildKit's `[stage-0 2/5] RUN ...` and `CACHED [...]`.
 */
const BUILD_STEP = [/^Step \d+\/\d+ :/, /^ ---> Using cache/, /^(?:CACHED )?\[(?!internal\])/]

/** How many lines of a failed build's output its error quotes. */
const BUILD_TAIL_LINES = 20

/** A registry refused the credentials (or asked for some): said as such, with the registry. */
export class RegistryAuthError extends Error {
  override name = 'RegistryAuthError'
}

/** One message of a pull's progress stream: a layer (`id`) and its new state. */
export interface PullProgress {
  id?: string
  status: string
  /** Bytes of the layer done so far, and in all, while it downloads. */
  current?: number
  total?: number
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

/** The engine calls that images need (DockerBackend's). */
export interface ImageEngine {
  /** Whether the engine has this image, for `platform` (`os/arch[/variant]`) when given. */
  imageExists(ref: string, platform?: string): Promise<boolean>
  /** Pulls an image; throws RegistryAuthError when the registry refuses the credentials. */
  pullImage(
    ref: string,
    options: { platform?: string; auth?: RegistryCredentials },
    onProgress: (progress: PullProgress) => void
  ): Promise<void>
  /** Gives an image a second name, `repo:tag`. */
  tagImage(ref: string, target: string): Promise<void>
  /**
   * Builds an image from a tar stream of its context (asked for again when a first builder
   * refused before reading it), with BuildKit where the engine has it, else the classic
   * builder; resolves to which built it. Throws with the builder's error.
   */
  buildImage(
    context: () => NodeJS.ReadableStream | Promise<NodeJS.ReadableStream>,
    options: BuildOptions,
    onOutput: (line: string) => void
  ): Promise<Builder>
}

/** Which builder built an image; for the classic one, why not BuildKit. */
export interface Builder {
  name: 'buildkit' | 'classic'
  why?: string
}

/** The engine calls that pushing a built image needs (DockerBackend's). */
export interface PushEngine extends Pick<ImageEngine, 'tagImage'> {
  /** Pushes a tag; resolves to the digest the registry gave it. */
  pushImage(
    ref: string,
    auth: RegistryCredentials | undefined,
    onProgress?: (progress: PullProgress) => void
  ): Promise<string>
  /** Takes a name off an image; its layers stay. */
  untagImage(ref: string): Promise<void>
}

/**
 * The runner's login for a registry, from the Docker config file or its credential
 * helper; none for an anonymous run (ImageRun.anonymous).
 */
export function configLogin(
  registry: string,
  run: Pick<ImageRun, 'env' | 'anonymous'>
): Promise<RegistryCredentials | undefined> {
  return run.anonymous ? Promise.resolve(undefined) : credentialsFromDockerConfig(registry, run.env)
}

/** A built image as a registry has it: where every node of a cluster pulls it from. */
export interface PushedImage {
  /** `registry/name:tag@sha256:…`: by digest, so a tag pushed over meanwhile changes nothing. */
  ref: string
  /** The registry's credentials from the Docker config file, for the nodes' pulls. */
  auth?: RegistryCredentials
}

/**
 * Pushes an image the run built (already on the engine) to `registry` under its own
 * name. The registry-named tag is taken off the engine again once pushed: the run's own
 * tag is the one the sweep knows. Rejects with one line naming the registry.
 */
export async function pushBuiltImage(
  engine: PushEngine,
  image: BuiltImage,
  registry: string,
  ctx: ImageRun
): Promise<PushedImage> {
  const target = `${registry}/${image.ref}`
  const auth = await configLogin(registry, ctx)
  ctx.events.info(`push ${target}${auth ? ` (as ${auth.username})` : ''}`)
  await engine.tagImage(image.ref, target)
  try {
    // The tag stays in the reference for people to read; the digest is what is pulled.
    const digest = await engine.pushImage(target, auth)
    return { ref: `${target}@${digest}`, ...(auth ? { auth } : {}) }
  } catch (error) {
    const who = auth ? `as '${auth.username}'` : 'with no credentials'
    const hint =
      error instanceof RegistryAuthError ? ` (${who}: check docker login ${registry})` : ''
    throw new Error(`pushing ${target} failed${hint}: ${messageOf(error)}`)
  } finally {
    await engine.untagImage(target)
  }
}

/**
 * Gets an image onto the engine: pulled as its `pull` policy says, with credentials from
 * `auth:` or the Docker config file, or built from its context and tagged for the run.
 * Progress is shown compactly: one line per layer state change of a pull, one per step
 * of a build. Rejects with one line saying why not.
 */
export async function prepareDockerImage(
  engine: ImageEngine & PushEngine,
  image: ImageSource,
  ctx: ImageRun
): Promise<string | undefined> {
  if (image.kind === 'pull') return pull(engine, image, ctx)
  await build(engine, image, ctx)
  return image.push && image.name ? push(engine, image.name, image.auth, ctx) : undefined
}

/**
 * `build.push`: pushes the built image's name to its registry, with `auth:` or the Docker
 * config's credentials, one line per change of a layer's state. Resolves to what was
 * pushed, by digest (`name@sha256:...`); rejects with one line naming the registry.
 */
async function push(
  engine: PushEngine,
  name: string,
  given: RegistryCredentials | undefined,
  ctx: ImageRun
): Promise<string> {
  const registry = given?.serveraddress ?? registryOf(name)
  const auth = given ?? (await configLogin(registry, ctx))
  ctx.events.info(`push ${name}${auth ? ` (as ${auth.username})` : ''}`)
  const states = new Map<string, string>()
  try {
    const digest = await engine.pushImage(name, auth, ({ id, status }) => {
      if (states.get(id ?? '') === status) return
      states.set(id ?? '', status)
      ctx.events.info(`push ${name}: ${id ? `${id} ` : ''}${status}`)
    })
    ctx.events.info(`pushed ${name}@${digest}`)
    return `${name}@${digest}`
  } catch (error) {
    const who = auth ? `as '${auth.username}'` : 'with no credentials'
    const hint =
      error instanceof RegistryAuthError
        ? `: authentication failed ${who} (check runs-on.with.auth, or docker login ${registry})`
        : ''
    throw new Error(
      `pushing ${name} to registry ${registryName(registry)} failed${hint}: ${messageOf(error)}`
    )
  }
}

async function pull(engine: ImageEngine, image: PulledImage, ctx: ImageRun): Promise<undefined> {
  const { ref, policy } = image
  if (policy !== 'always' && (await engine.imageExists(ref, image.platform))) return undefined
  if (policy === 'never') {
    throw new Error(`image '${ref}' is not on the engine, and 'pull: never' forbids pulling it`)
  }
  const registry = image.auth?.serveraddress ?? registryOf(ref)
  const auth = image.auth ?? (await configLogin(registry, ctx))
  ctx.events.info(`pull ${ref}${auth ? ` (as ${auth.username})` : ''}`)
  const states = new Map<string, string>()
  const live = ctx.events.progress ? new PullMeter(ref, ctx.events.progress) : undefined
  try {
    await engine.pullImage(
      ref,
      { ...(image.platform ? { platform: image.platform } : {}), ...(auth ? { auth } : {}) },
      (progress) => {
        // On a terminal one line tells it all, in place; elsewhere a line per change.
        if (live) return live.add(progress)
        const { id, status } = progress
        // The engine repeats a layer's state with each chunk; only a change is news.
        if (states.get(id ?? '') === status) return
        states.set(id ?? '', status)
        ctx.events.info(`pull ${ref}: ${id ? `${id} ` : ''}${status}`)
      }
    )
    live?.done()
  } catch (error) {
    live?.done()
    if (error instanceof RegistryAuthError) {
      const who = auth ? `as '${auth.username}'` : 'with no credentials'
      throw new Error(
        `pulling image '${ref}' from registry ${registryName(registry)}: authentication failed ${who} ` +
          `(check runs-on.with.auth, or docker login ${registry === DOCKER_HUB ? '' : registry}); ` +
          `the registry said: ${error.message}`
      )
    }
    // `pull: always` asks for the registry's copy even where the engine has one.
    const local = policy === 'always' && (await engine.imageExists(ref, image.platform))
    throw new Error(
      local
        ? `image '${ref}' could not be pulled, and 'pull: always' does not take the engine's own copy (use pull: missing for that): ${messageOf(error)}`
        : `image '${ref}' is not on the engine and could not be pulled: ${messageOf(error)}`
    )
  }
}

/**
 * A pull as one line that changes in place: layers done of those seen, and bytes
 * downloaded of those known (`pull alpine:3: 2/3 layers, 1.2 MB of 3.4 MB`).
 */
class PullMeter {
  private readonly layers = new Map<string, { current: number; total: number; done: boolean }>()

  constructor(
    private readonly ref: string,
    private readonly show: (key: string, text?: string) => void
  ) {}

  add({ id, status, current, total }: PullProgress): void {
    if (!id || !/^[0-9a-f]{12}$/.test(id)) return
    const layer = this.layers.get(id) ?? { current: 0, total: 0, done: false }
    if (status === 'Downloading' && total) Object.assign(layer, { current: current ?? 0, total })
    if (/^(Download complete|Pull complete|Already exists)$/.test(status)) {
      layer.done = status !== 'Download complete' || layer.done
      if (layer.total) layer.current = layer.total
    }
    this.layers.set(id, layer)
    const all = [...this.layers.values()]
    const done = all.filter((l) => l.done).length
    const bytes = all.reduce((n, l) => n + l.current, 0)
    const known = all.reduce((n, l) => n + l.total, 0)
    this.show(
      this.ref,
      `pull ${this.ref}: ${done}/${all.length} layers, ${megabytes(bytes)} of ${megabytes(known)}`
    )
  }

  done(): void {
    this.show(this.ref, undefined)
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`
}

async function build(engine: ImageEngine, image: BuiltImage, ctx: ImageRun): Promise<void> {
  const dockerfile = path.posix.normalize(image.dockerfile)
  if (dockerfile.startsWith('../') || path.isAbsolute(dockerfile)) {
    throw new Error(
      `build: the Dockerfile '${image.dockerfile}' must be inside the context ${image.context}`
    )
  }
  try {
    await stat(path.join(image.context, dockerfile))
  } catch {
    throw new Error(`build: no Dockerfile at ${path.join(image.context, dockerfile)}`)
  }
  ctx.events.info(`build ${image.ref} from ${image.context}`)
  const recent: string[] = []
  let builder: Builder
  try {
    builder = await engine.buildImage(
      () => buildContext(image.context, dockerfile),
      {
        tag: image.ref,
        dockerfile,
        args: image.args,
        pull: image.pullBase,
        ...(image.target ? { target: image.target } : {}),
        ...(image.platform ? { platform: image.platform } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {})
      },
      (line) => {
        if (BUILD_STEP.some((step) => step.test(line))) {
          ctx.events.info(`build ${image.ref}: ${line.trim()}`)
        }
        recent.push(line)
        if (recent.length > BUILD_TAIL_LINES) recent.shift()
      }
    )
  } catch (error) {
    if (error instanceof BuildCancelledError) throw error
    const tail = recent.length > 0 ? `\n${recent.join('\n')}` : ''
    throw new Error(`building ${image.context} failed: ${messageOf(error)}${tail}`)
  }
  ctx.events.info(
    builder.name === 'buildkit'
      ? `build ${image.ref}: built with BuildKit`
      : `build ${image.ref}: built with the classic builder${builder.why ? ` (no BuildKit: ${builder.why})` : ''}`
  )
  if (image.name) {
    ctx.events.info(`tag ${image.name}`)
    await engine.tagImage(image.ref, image.name).catch((error: unknown) => {
      throw new Error(`tagging the built image as ${image.name} failed: ${messageOf(error)}`)
    })
  }
}

function registryName(registry: string): string {
  return registry === DOCKER_HUB ? 'Docker Hub (docker.io)' : registry
}
