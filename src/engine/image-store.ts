import path from 'node:path'
import { stat } from 'node:fs/promises'
import {
  DOCKER_HUB,
  registryOf,
  type BuiltImage,
  type ImageSource,
  type PulledImage
} from '../plan/image-plan.js'
import { buildContext } from './build-context.js'
import {
  BuildCancelledError,
  messageOf,
  RegistryAuthError,
  type DockerClient
} from './docker-client.js'
import { credentialsFromDockerConfig } from './docker-config.js'
import type { RunReporter } from './run-reporter.js'

/** How many lines of a failed build's output its error quotes. */
const BUILD_TAIL_LINES = 20

/**
 * Gets a run's images ready, each once however many jobs use it: pulled as its `pull`
 * policy says, with credentials from `auth:` or the Docker config file, or built from its
 * context and tagged for the run. Progress is shown compactly: one line per layer state
 * change of a pull, one per step of a build.
 */
export class ImageStore {
  private readonly ready = new Map<string, Promise<void>>()
  private readonly builds: Promise<void>[] = []

  constructor(
    private readonly client: DockerClient,
    private readonly reporter: RunReporter,
    /** The environment the run was started in: `DOCKER_CONFIG`. */
    private readonly env: Record<string, string | undefined>,
    /** The run's cancel: builds in flight are stopped, so none is tagged after the sweep. */
    private readonly signal?: AbortSignal
  ) {}

  /**
   * Resolves once every build asked for has ended, however: the run's sweep waits for this,
   * since a build that ends after the sweep listed the run's tags would leave one. (Pulls
   * leave nothing of the run's, so a slow one does not hold the sweep.)
   */
  async settled(): Promise<void> {
    await Promise.allSettled(this.builds)
  }

  /** Resolves once the image is on the engine; rejects with one line saying why not. */
  prepare(image: ImageSource): Promise<void> {
    const key =
      image.kind === 'build' ? image.ref : `${image.ref} ${image.platform ?? ''} ${image.policy}`
    let ready = this.ready.get(key)
    if (!ready) {
      ready = image.kind === 'build' ? this.build(image) : this.pull(image)
      if (image.kind === 'build') this.builds.push(ready)
      this.ready.set(key, ready)
    }
    return ready
  }

  private async pull(image: PulledImage): Promise<void> {
    const { ref, policy } = image
    if (policy !== 'always' && (await this.client.imageExists(ref, image.platform))) return
    if (policy === 'never') {
      throw new Error(`image '${ref}' is not on the engine, and 'pull: never' forbids pulling it`)
    }
    const registry = image.auth?.serveraddress ?? registryOf(ref)
    const auth = image.auth ?? (await credentialsFromDockerConfig(registry, this.env))
    this.reporter.info(`pull ${ref}${auth ? ` (as ${auth.username})` : ''}`)
    const states = new Map<string, string>()
    try {
      await this.client.pullImage(
        ref,
        { ...(image.platform ? { platform: image.platform } : {}), ...(auth ? { auth } : {}) },
        ({ id, status }) => {
          // The engine repeats a layer's state with each chunk; only a change is news.
          if (states.get(id ?? '') === status) return
          states.set(id ?? '', status)
          this.reporter.info(`pull ${ref}: ${id ? `${id} ` : ''}${status}`)
        }
      )
    } catch (error) {
      if (error instanceof RegistryAuthError) {
        const who = auth ? `as '${auth.username}'` : 'with no credentials'
        throw new Error(
          `pulling image '${ref}' from registry ${registryName(registry)}: authentication failed ${who} ` +
            `(check runs-on.with.auth, or docker login ${registry === DOCKER_HUB ? '' : registry}); ` +
            `the registry said: ${error.message}`
        )
      }
      throw new Error(
        `image '${ref}' is not on the engine and could not be pulled: ${messageOf(error)}`
      )
    }
  }

  private async build(image: BuiltImage): Promise<void> {
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
    this.reporter.info(`build ${image.ref} from ${image.context}`)
    const recent: string[] = []
    try {
      await this.client.buildImage(
        await buildContext(image.context, dockerfile),
        {
          tag: image.ref,
          dockerfile,
          args: image.args,
          pull: image.pullBase,
          ...(image.target ? { target: image.target } : {}),
          ...(image.platform ? { platform: image.platform } : {}),
          ...(this.signal ? { signal: this.signal } : {})
        },
        (line) => {
          if (/^Step \d+\/\d+ :/.test(line) || /^ ---> Using cache/.test(line)) {
            this.reporter.info(`build ${image.ref}: ${line.trim()}`)
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
  }
}

function registryName(registry: string): string {
  return registry === DOCKER_HUB ? 'Docker Hub (docker.io)' : registry
}
