import type { Backend } from '../backend/backend.js'
import { DockerBackend } from '../backend/docker/docker-backend.js'
import { SwarmBackend } from '../backend/swarm/swarm-backend.js'
import { InputError } from '../spec/input-error.js'

/**
 * Every backend a run can be given, by the name `--backend` and the action's `backend`
 * input take; the first is the default. A pipeline's `runs-on.type: container` runs on
 * whichever is chosen: the file says what to run, the command line where.
 */
const BACKENDS: Record<string, (options: BackendOptions) => Backend> = {
  docker: () => new DockerBackend(),
  swarm: (options) =>
    new SwarmBackend(undefined, {
      helperImage: process.env.CTR_SWARM_HELPER_IMAGE,
      scheduleTimeoutMs: options.scheduleTimeoutMs
    })
}

/** What the command line can tell a backend; a backend takes what applies to it. */
export interface BackendOptions {
  /** Swarm: how long a task may wait for a node before its job fails. */
  scheduleTimeoutMs?: number
}

/** The names of the known backends, the default first. */
export const BACKEND_NAMES = Object.keys(BACKENDS)

/**
 * The backend of this name (the default when none is given). An unknown name is a usage
 * error (exit 2) that names where it came from (`--backend`, the `backend` input) and
 * lists the known ones.
 */
export function createBackend(
  name: string | undefined,
  source: string,
  options: BackendOptions = {}
): Backend {
  const chosen = name?.trim() || BACKEND_NAMES[0]
  const make = Object.hasOwn(BACKENDS, chosen) ? BACKENDS[chosen] : undefined
  if (!make)
    throw new InputError(`${source}: no backend '${chosen}' (known: ${BACKEND_NAMES.join(', ')})`)
  return make(options)
}
