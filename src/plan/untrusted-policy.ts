import { isInside, UNTRUSTED_ULIMITS } from '../pipeline/host-access.js'
import type { ContainerPlan } from './container-plan.js'

/**
 * What an untrusted pipeline's containers may use, besides their image: everything here
 * is the run's own, or bounded.
 */
export interface UntrustedScope {
  /** The checkout, with symlinks resolved: binds must come from inside it. */
  workspace: string
  /** Engine names of the networks the container may join (the run's, its services'). */
  networks: readonly string[]
  /** Engine names of the volumes the run itself creates. */
  volumes: readonly string[]
  /** The host's CPUs and memory (bytes): what the defaults and the bounds are made from. */
  hostCpus: number
  hostMemory: number
}

/** Processes an untrusted container holds unless the file asks for fewer (or up to the most). */
export const UNTRUSTED_PIDS_DEFAULT = 1024
/** The most processes an untrusted pipeline may ask for. */
export const UNTRUSTED_PIDS_MAX = 4096
/** The one host address an untrusted container's ports may be published on. */
export const LOOPBACK = '127.0.0.1'

/**
 * Holds an untrusted pipeline's container, as planned with every `{{ }}` and `${VAR}`
 * rendered and every bind source resolved (symlinks included), to an allow-list: binds
 * from inside the workspace, the run's own volumes, the run's own network or none, no
 * privileges, capabilities or devices, ports on loopback only, and bounded processes,
 * memory and CPU. Fills in the bounds the file leaves out (half the host's CPUs and memory,
 * UNTRUSTED_PIDS_DEFAULT processes, no-new-privileges, ports on 127.0.0.1) and returns
 * what it refuses, one message per key, named as in the file. A list (rather than a check
 * of the text) because expressions, variables and symlinks all change what the text says.
 */
export function enforceUntrusted(planned: ContainerPlan, scope: UntrustedScope): string[] {
  const refused: string[] = []
  const refuse = (key: string, why: string) => refused.push(`${key}: ${why}`)
  const { security, resources } = planned
  if (security.privileged) refuse('privileged', 'true gives the job the whole host')
  if (security.capAdd.length > 0)
    refuse('cap_add', `${security.capAdd.join(', ')} widens what the job may do`)
  if (resources.gpus) refuse('resources.gpus', 'hands the job host devices')
  const { mode } = planned.network
  if (mode !== 'none' && !scope.networks.includes(mode))
    refuse(
      'network.network_mode',
      `'${mode}' is not the run's own network (only the run's network or none)`
    )
  for (const mount of planned.mounts) {
    if (mount.type === 'volume' && !scope.volumes.includes(mount.source))
      refuse('volumes', `volume '${mount.source}' (at ${mount.target}) is not one the run creates`)
    if (mount.type === 'bind' && !isInside(mount.source, scope.workspace))
      refuse(
        'volumes',
        `${mount.source} (at ${mount.target}) is outside the workspace ${scope.workspace}`
      )
  }
  if (planned.image.kind === 'build')
    refuse(
      'build',
      'an untrusted pipeline builds no image (a build has no process or memory limit, and its tag stays on the engine): build it in a trusted workflow and name it in image:'
    )
  if (planned.image.auth)
    refuse(
      'auth',
      "hands registry credentials to the engine, which sends them from the host's network"
    )
  for (const { name } of planned.resources.ulimits)
    if (!UNTRUSTED_ULIMITS.includes(name))
      refuse(`ulimits.${name}`, "changes a limit of the kernel's (only nofile and nproc)")
  for (const port of planned.network.ports) {
    port.hostIp ||= LOOPBACK
    if (port.hostIp !== LOOPBACK)
      refuse('network.ports', `${port.container} is published on ${port.hostIp} (only ${LOOPBACK})`)
  }
  security.noNewPrivileges = true
  resources.pidsLimit ??= UNTRUSTED_PIDS_DEFAULT
  if (!(resources.pidsLimit >= 1 && resources.pidsLimit <= UNTRUSTED_PIDS_MAX))
    refuse(
      'resources.pids_limit',
      `${resources.pidsLimit} is not between 1 and ${UNTRUSTED_PIDS_MAX}`
    )
  resources.memoryBytes ??= Math.floor(scope.hostMemory / 2)
  if (resources.memoryBytes > scope.hostMemory)
    refuse(
      'resources.memory',
      `${resources.memoryBytes} bytes is more than the host's ${scope.hostMemory}`
    )
  if (resources.memorySwapBytes === -1) refuse('resources.memswap_limit', '-1 (unlimited swap)')
  resources.cpus ??= Math.max(1, Math.floor(scope.hostCpus / 2))
  if (resources.cpus > scope.hostCpus)
    refuse('resources.cpu', `${resources.cpus} is more than the host's ${scope.hostCpus}`)
  return refused
}
