import { homedir } from 'node:os'
import type { Backend } from '../backend/backend.js'
import { DockerBackend } from '../backend/docker/docker-backend.js'
import { engineSettings, type EngineSettings } from '../backend/engine/connection.js'
import { SwarmBackend } from '../backend/swarm/swarm-backend.js'
import type { ProcessEngine } from './discover-processes.js'
import { InputError } from '../pipeline/input-error.js'
import { parseDuration } from '../pipeline/quantities.js'

/**
 * Every backend a run can be given, by the name `--backend` and the action's `backend`
 * input take; the first is the default. A pipeline's `runs-on.type: container` runs on
 * whichever is chosen: the file says what to run, the command line where.
 */
const BACKENDS: Record<string, (options: BackendOptions) => Backend> = {
  docker: (options) => new DockerBackend(engineOf(options.env)),
  swarm: (options) =>
    new SwarmBackend(engineOf(options.env, options.host), {
      helperImage: options.env.CTR_SWARM_HELPER_IMAGE,
      scheduleTimeoutMs: options.scheduleTimeoutMs,
      registry: options.registry,
      env: options.env
    })
}

/**
 * The engine the docker CLI would use in `env` (DOCKER_HOST, a context, the default
 * socket), or at `host` when one is given: the address goes down to the backend, and
 * nothing is written to the environment (where the pipeline file would read it).
 */
function engineOf(env: Record<string, string | undefined>, host?: string): EngineSettings {
  return engineSettings(host ? { ...env, DOCKER_HOST: host } : env, homedir())
}

/**
 * The local Docker engine, answering, for what reads its images and describes their
 * processes (validate, processes); EngineUnavailableError when it does not answer.
 */
export async function localEngine(env: Record<string, string | undefined>): Promise<ProcessEngine> {
  const backend = new DockerBackend(engineOf(env))
  await backend.ping()
  return { images: (ref?: string) => backend.images(ref), backend }
}

/** What the command line can tell a backend; a backend takes what applies to it. */
export interface BackendOptions {
  /** The environment the run was started in: where the engine is, as the docker CLI reads it. */
  env: Record<string, string | undefined>
  /** Swarm: how long a task may wait for a node before its job fails. */
  scheduleTimeoutMs?: number
  /** Swarm: the registry every node pulls built images from (see parseRegistry). */
  registry?: string
  /** Swarm: the manager's Engine API, as DOCKER_HOST takes it; DOCKER_HOST when not given. */
  host?: string
}

/** What a timeout looks like, for the errors of --schedule-timeout and its input. */
export const TIMEOUT_FORM = 'a duration such as 90s or 5m'

/** A timeout as the file writes durations, in milliseconds; undefined for none or zero. */
export function parseTimeout(text: string): number | undefined {
  return parseDuration(text) || undefined
}

/** What a registry address looks like, for the errors of --registry and the registry input. */
export const REGISTRY_FORM = 'HOST[:PORT][/PATH], without a scheme (e.g. registry.example.com:5000)'

/**
 * A registry address as an image reference starts with it (`host[:port]`, then maybe a
 * lower-case path), trimmed; undefined for anything else, such as a URL with a scheme.
 */
export function parseRegistry(text: string): string | undefined {
  const registry = text.trim()
  const form = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d+)?(?:\/[a-z0-9._-]+)*$/
  return form.test(registry) ? registry : undefined
}

/** What an engine address looks like, for the errors of --swarm-host and the swarm-host input. */
export const ENGINE_HOST_FORM =
  'unix:///PATH, tcp://HOST:PORT or ssh://USER@HOST, as DOCKER_HOST takes it'

/** An engine address as DOCKER_HOST takes it, trimmed; undefined for anything else. */
export function parseEngineHost(text: string): string | undefined {
  const host = text.trim()
  return /^(unix|tcp|ssh|npipe):\/\/\S+$/.test(host) ? host : undefined
}

/** The names of the known backends, the default first. */
export const BACKEND_NAMES = Object.keys(BACKENDS)

/**
 * Where a run's jobs go, as the CLI's flags or the action's inputs say it: a backend's
 * name (the default when empty), where that name came from, and what it takes.
 */
export interface BackendChoice extends Omit<BackendOptions, 'env'> {
  name: string
  /** The flag or input that named it (`--backend`, `input 'backend'`), for its errors. */
  source: string
}

/**
 * A backend chosen by name (the default when none is given), checked now: an unknown
 * name is a usage error (exit 2) that names where it came from and lists the known ones.
 */
export function chooseBackend(
  name: string | undefined,
  source: string,
  options: Omit<BackendOptions, 'env'> = {}
): BackendChoice {
  const chosen = name?.trim() || BACKEND_NAMES[0]
  if (!Object.hasOwn(BACKENDS, chosen))
    throw new InputError(`${source}: no backend '${chosen}' (known: ${BACKEND_NAMES.join(', ')})`)
  return { ...options, name: chosen, source }
}

/** The backend a choice names, on the engine the environment points at (or its `host`). */
export function createBackend(
  choice: BackendChoice,
  env: Record<string, string | undefined>
): Backend {
  return BACKENDS[chooseBackend(choice.name, choice.source).name]({ ...choice, env })
}
