import { createHash } from 'node:crypto'
import path from 'node:path'
import type { ContainerSpec, PullPolicy, RegistryAuthSpec } from '../pipeline/pipeline-types.js'

/** Registry credentials as the Engine API takes them (`X-Registry-Auth`). */
export interface RegistryCredentials {
  username: string
  password: string
  /** The registry they are for: `host[:port]`, or Docker Hub's `https://index.docker.io/v1/`. */
  serveraddress: string
}

/** An image taken from a registry (or the engine, when it has it). */
export interface PulledImage {
  kind: 'pull'
  ref: string
  policy: PullPolicy
  platform?: string
  /** Credentials from the file's `auth:`; without them, the Docker config file is asked. */
  auth?: RegistryCredentials
}

/** An image built from a Dockerfile context and tagged for the run. */
export interface BuiltImage {
  kind: 'build'
  /** The run's tag for it: `ctr-pipeline-build/<job>:<run>-<hash of what is built>`. */
  ref: string
  /** Absolute path of the context folder. */
  context: string
  /** Relative to the context. */
  dockerfile: string
  args: Record<string, string>
  target?: string
  platform?: string
  /** `pull: always` pulls the Dockerfile's base images anew, as `docker build --pull`. */
  pullBase: boolean
  /**
   * `image` given with `build`: the name the built image is also tagged with, as in
   * Compose (`docker build -t NAME`). It stays after the run: the user named it.
   */
  name?: string
  /** `build.push`: `name` is pushed to its registry once built. */
  push?: boolean
  /** Credentials for the push, from `auth:`; without them, the Docker config file is asked. */
  auth?: RegistryCredentials
}

/** Where a job's image comes from; the engine gets it ready before the job starts. */
export type ImageSource = PulledImage | BuiltImage

/** The repository namespace of images built for a run; cleanup finds them by it. */
export const BUILT_IMAGE_REPO = 'ctr-pipeline-build'

/** Docker Hub's address in credentials and Docker config files. */
export const DOCKER_HUB = 'https://index.docker.io/v1/'

/**
 * The registry an image reference points at, as Docker reads it: a first path part with
 * a dot, a colon or `localhost` is a registry host; anything else is on Docker Hub.
 */
export function registryOf(ref: string): string {
  const slash = ref.indexOf('/')
  if (slash < 0) return DOCKER_HUB
  const first = ref.slice(0, slash)
  return /[.:]/.test(first) || first === 'localhost' ? first : DOCKER_HUB
}

/**
 * A job's image source from its `runs-on.with`, values rendered: a pull of `image` under
 * the `pull` policy, or a build of `build` tagged for the run. Builds of the same inputs
 * get the same tag, so a matrix builds once.
 */
export function planImage(
  spec: ContainerSpec,
  ctx: { runId: string; jobId: string; pipelineDir: string },
  r: (text: string) => string
): ImageSource {
  const platform = spec.platform ? r(spec.platform) : undefined
  if (spec.build) {
    const built = {
      context: path.resolve(ctx.pipelineDir, r(spec.build.context)),
      dockerfile: spec.build.dockerfile ? r(spec.build.dockerfile) : 'Dockerfile',
      args: Object.fromEntries(Object.entries(spec.build.args).map(([k, v]) => [k, r(v)])),
      ...(spec.build.target ? { target: r(spec.build.target) } : {}),
      ...(platform ? { platform } : {}),
      pullBase: spec.pull === 'always'
    }
    const hash = createHash('sha256').update(JSON.stringify(built)).digest('hex').slice(0, 8)
    const repo = ctx.jobId.toLowerCase().replace(/[^a-z0-9._-]/g, '-')
    const name = spec.image ? r(spec.image) : ''
    return {
      kind: 'build',
      ref: `${BUILT_IMAGE_REPO}/${repo}:${ctx.runId}-${hash}`,
      ...built,
      ...(name ? { name } : {}),
      ...(name && spec.build.push ? { push: true } : {}),
      ...(name && spec.build.push && spec.auth ? { auth: planAuth(spec.auth, name, r) } : {})
    }
  }
  const ref = r(spec.image)
  const image: PulledImage = { kind: 'pull', ref, policy: spec.pull }
  if (platform) image.platform = platform
  if (spec.auth) image.auth = planAuth(spec.auth, ref, r)
  return image
}

/** `auth:` rendered, for the registry it names or else the one `ref` is pulled from. */
export function planAuth(
  auth: RegistryAuthSpec,
  ref: string,
  r: (text: string) => string
): RegistryCredentials {
  return {
    username: r(auth.username),
    password: r(auth.password),
    serveraddress: auth.registry ? r(auth.registry) : registryOf(ref)
  }
}
