import { isDockerNetworkMode, type ContainerPlan } from '../../plan/container-plan.js'
import { parseMemory } from '../../pipeline/quantities.js'
import { healthConfig } from '../engine/health-config.js'

/** The subset of the Engine API's `POST /services/create` body that job tasks use. */
export interface ServiceBody {
  Name: string
  Labels: Record<string, string>
  TaskTemplate: {
    ContainerSpec: {
      Image: string
      Labels: Record<string, string>
      Command?: string[]
      Args?: string[]
      Env: string[]
      Dir?: string
      User?: string
      ReadOnly?: boolean
      Mounts: Array<{
        Type: 'bind' | 'volume' | 'tmpfs'
        Source?: string
        Target: string
        ReadOnly?: boolean
        TmpfsOptions?: { SizeBytes?: number; Mode?: number }
      }>
      CapabilityAdd?: string[]
      CapabilityDrop?: string[]
      Hosts?: string[]
      DNSConfig?: { Nameservers: string[] }
      Ulimits?: Array<{ Name: string; Soft: number; Hard: number }>
      /** A service's check: its task stays `starting` until the check passes. */
      Healthcheck?: ReturnType<typeof healthConfig>
      /** Removing the service kills its task at once, as `kill` promises. */
      StopSignal: 'SIGKILL'
    }
    Resources: {
      Limits: { MemoryBytes?: number; NanoCPUs?: number; Pids?: number }
      /** The scheduler places a task only on a node with this much unreserved. */
      Reservations?: { MemoryBytes?: number; NanoCPUs?: number }
    }
    RestartPolicy: { Condition: 'none'; MaxAttempts: 0 }
    Placement: {
      Constraints?: string[]
      Preferences?: Array<{ Spread: { SpreadDescriptor: string } }>
      Platforms?: Array<{ OS: string; Architecture: string }>
    }
    Networks: Array<{ Target: string; Aliases: string[] }>
  }
  Mode: { Replicated: { Replicas: 1 } }
  /** DNS round robin: the routing mesh needs IP_VS, which many hosts lack. */
  EndpointSpec: { Mode: 'dnsrr' }
}

/** What one task of a planned container runs: its service name, command and extra env. */
export interface TaskRun {
  name: string
  /** The image to run when not the plan's own: a built one, by its digest in the registry. */
  image?: string
  /** Replaces the image's entrypoint and command; none: the plan's own (or the image's). */
  command?: string[]
  /** `NAME=value` pairs after the plan's environment (the same name: these win). */
  env: string[]
  /** Networks it joins besides the plan's own (a job's services' network). */
  networks?: Array<{ Target: string; Aliases: string[] }>
  /**
   * Named volumes the run's workspace service keeps (by engine name): mounted as the
   * task's own, empty volume, which the task's wrapper fills from the service.
   */
  served?: ReadonlySet<string>
}

/**
 * A planned container as a service of one task that runs once: a pure mapping, tested as
 * a table. One replica with restart condition `none` (retries are the scheduler's), not
 * a `ReplicatedJob`: a job's task containers outlive its service on the workers, running
 * or not (moby#42789), where a replicated service's go with it. Labels on the service
 * and its containers, so a sweep finds either. The workspace (and a named volume the
 * run's workspace service keeps) is the task's own anonymous volume (gone with its container). What a Swarm service cannot be (privileged,
 * published ports, a GPU, a network mode of its own) is an Error saying so, not ignored.
 */
export function serviceBody(plan: ContainerPlan, task: TaskRun): ServiceBody {
  refuseUnsupported(plan)
  const { resources: res, security: sec, network } = plan
  const container: ServiceBody['TaskTemplate']['ContainerSpec'] = {
    Image: task.image ?? plan.image.ref,
    Labels: plan.labels,
    Env: [...Object.entries(plan.env).map(([k, v]) => `${k}=${v}`), ...task.env],
    StopSignal: 'SIGKILL',
    Mounts: plan.mounts.map((mount) => {
      switch (mount.type) {
        case 'workspace':
          return { Type: 'volume', Target: mount.target }
        case 'tmpfs':
          return { Type: 'tmpfs', Target: mount.target, ...tmpfsOptions(mount.options) }
        case 'volume':
          if (task.served?.has(mount.source)) return { Type: 'volume', Target: mount.target }
        // falls through: a volume every node has (external)
        default:
          return {
            Type: mount.type,
            Source: mount.source,
            Target: mount.target,
            ReadOnly: mount.readOnly
          }
      }
    })
  }
  if (task.command) container.Command = task.command
  else {
    if (plan.entrypoint) container.Command = plan.entrypoint
    if (plan.command) container.Args = plan.command
  }
  if (plan.workingDir) container.Dir = plan.workingDir
  if (plan.user) container.User = plan.user
  if (sec.readOnlyRootfs) container.ReadOnly = true
  if (sec.capAdd.length > 0) container.CapabilityAdd = sec.capAdd
  if (sec.capDrop.length > 0) container.CapabilityDrop = sec.capDrop
  if (network.extraHosts.length > 0)
    container.Hosts = network.extraHosts.map((entry) => {
      // Docker's `host:ip` becomes the hosts-file order Swarm takes: `ip host`.
      const colon = entry.indexOf(':')
      return `${entry.slice(colon + 1)} ${entry.slice(0, colon)}`
    })
  if (network.dns.length > 0) container.DNSConfig = { Nameservers: network.dns }
  if (plan.healthcheck) container.Healthcheck = healthConfig(plan.healthcheck)
  if (res.ulimits.length > 0)
    container.Ulimits = res.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }))
  const limits: ServiceBody['TaskTemplate']['Resources']['Limits'] = {}
  if (res.memoryBytes !== undefined) limits.MemoryBytes = res.memoryBytes
  if (res.cpus !== undefined) limits.NanoCPUs = Math.round(res.cpus * 1e9)
  if (res.pidsLimit !== undefined) limits.Pids = res.pidsLimit
  const reservations: NonNullable<ServiceBody['TaskTemplate']['Resources']['Reservations']> = {}
  if (res.memoryReservationBytes !== undefined)
    reservations.MemoryBytes = res.memoryReservationBytes
  if (res.cpuReservation !== undefined) reservations.NanoCPUs = Math.round(res.cpuReservation * 1e9)
  const placement: ServiceBody['TaskTemplate']['Placement'] = {}
  if (plan.platform) {
    const [os, architecture] = plan.platform.split('/')
    placement.Platforms = [{ OS: os, Architecture: architecture }]
  }
  if (plan.placement?.constraints.length) placement.Constraints = plan.placement.constraints
  if (plan.placement?.spreads.length)
    placement.Preferences = plan.placement.spreads.map((s) => ({
      Spread: { SpreadDescriptor: s }
    }))
  return {
    Name: task.name,
    Labels: plan.labels,
    TaskTemplate: {
      ContainerSpec: container,
      Resources: {
        Limits: limits,
        ...(Object.keys(reservations).length > 0 ? { Reservations: reservations } : {})
      },
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Placement: placement,
      Networks: [{ Target: network.mode, Aliases: network.aliases }, ...(task.networks ?? [])]
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr' }
  }
}

/** Throws for what a plan asks that a Swarm task cannot give, naming the option. */
function refuseUnsupported(plan: ContainerPlan) {
  const refuse = (what: string) => {
    throw new Error(`${what} is not available on the swarm backend (run it with --backend docker)`)
  }
  if (plan.security.privileged) refuse('privileged: true')
  if (plan.security.noNewPrivileges) refuse('no-new-privileges')
  if (plan.network.ports.length > 0) refuse('network.ports (published ports)')
  // A Swarm task joins overlay networks only.
  if (isDockerNetworkMode(plan.network.mode)) refuse(`network.network_mode '${plan.network.mode}'`)
  if (plan.resources.gpus) refuse('resources.gpus')
  if (plan.resources.cpusetCpus) refuse('resources.cpuset_cpus')
  if (plan.resources.shmSizeBytes !== undefined) refuse('resources.shm_size')
  if (plan.resources.memorySwapBytes !== undefined) refuse('resources.memswap_limit')
  if (plan.platform && plan.platform.split('/').length < 2) refuse(`platform '${plan.platform}'`)
}

/** Docker's tmpfs option text (`size=64m,mode=1777,ro`) as a Swarm mount's options. */
export function tmpfsOptions(text: string): {
  ReadOnly?: boolean
  TmpfsOptions?: { SizeBytes?: number; Mode?: number }
} {
  const options: { SizeBytes?: number; Mode?: number } = {}
  let readOnly = false
  for (const part of text.split(',').filter(Boolean)) {
    const [key, value = ''] = part.split('=')
    if (key === 'ro') readOnly = true
    else if (key === 'mode') options.Mode = parseInt(value, 8)
    else if (key === 'size') {
      const bytes = parseMemory(value)
      if (bytes === undefined) throw new Error(`tmpfs size '${value}' is not a size (such as 64m)`)
      options.SizeBytes = bytes
    }
  }
  return {
    ...(readOnly ? { ReadOnly: true } : {}),
    ...(Object.keys(options).length > 0 ? { TmpfsOptions: options } : {})
  }
}
