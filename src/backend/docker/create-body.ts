import { workflowVolumeName } from '../../plan/container-paths.js'
import { DRIVER_ENTRYPOINT } from './stage-driver.js'
import { isDockerNetworkMode, type ContainerPlan } from '../../plan/container-plan.js'
import { healthConfig, type EngineHealthcheck } from '../engine/health-config.js'

/** The subset of the Engine API's `POST /containers/create` body that jobs use. */
export interface ContainerCreateBody {
  Image: string
  Env: string[]
  Labels: Record<string, string>
  WorkingDir?: string
  User?: string
  Entrypoint?: string[]
  Cmd?: string[]
  AttachStdout?: boolean
  AttachStderr?: boolean
  AttachStdin?: boolean
  OpenStdin?: boolean
  ExposedPorts?: Record<string, Record<string, never>>
  Healthcheck?: EngineHealthcheck
  /** The network of `NetworkMode` and the names the container answers to on it. */
  NetworkingConfig?: { EndpointsConfig: Record<string, { Aliases: string[] }> }
  HostConfig: {
    /** The container's log driver: `none` for one whose output is read as it comes. */
    LogConfig?: { Type: string; Config: Record<string, string> }
    NetworkMode?: string
    PortBindings?: Record<string, Array<{ HostIp?: string; HostPort: string }>>
    Mounts: Array<{ Type: 'bind' | 'volume'; Source: string; Target: string; ReadOnly: boolean }>
    Memory?: number
    MemorySwap?: number
    MemoryReservation?: number
    NanoCpus?: number
    CpusetCpus?: string
    PidsLimit?: number
    ShmSize?: number
    DeviceRequests?: Array<{
      Driver: string
      Count: number
      DeviceIDs?: string[]
      Capabilities: string[][]
    }>
    Tmpfs?: Record<string, string>
    Ulimits?: Array<{ Name: string; Soft: number; Hard: number }>
    ReadonlyRootfs?: boolean
    CapAdd?: string[]
    CapDrop?: string[]
    Privileged?: boolean
    SecurityOpt?: string[]
    ExtraHosts?: string[]
    Dns?: string[]
  }
}

/**
 * Docker's create body for a planned container: a pure mapping, tested as a table. The
 * run's workspace is its Docker volume. A container that runs stages has the stage
 * driver as its main process, reading them on its stdin (stage-driver.ts); with `driver`
 * false (an image without `/bin/sh`) it idles (`tail -f /dev/null`, as GitHub's container
 * jobs do) while they are exec'd into it.
 */
export function createBody(
  plan: ContainerPlan,
  options: { driver: boolean } = { driver: true }
): ContainerCreateBody {
  const { resources: res, security: sec, network } = plan
  const body: ContainerCreateBody = {
    Image: plan.image.ref,
    Env: Object.entries(plan.env).map(([k, v]) => `${k}=${v}`),
    Labels: plan.labels,
    HostConfig: { Mounts: [] }
  }
  const host = body.HostConfig
  for (const mount of plan.mounts) {
    if (mount.type === 'tmpfs') (host.Tmpfs ??= {})[mount.target] = mount.options
    else if (mount.type === 'workspace')
      host.Mounts.push({
        Type: 'volume',
        Source: workflowVolumeName(plan.runId),
        Target: mount.target,
        ReadOnly: false
      })
    else
      host.Mounts.push({
        Type: mount.type,
        Source: mount.source,
        Target: mount.target,
        ReadOnly: mount.readOnly
      })
  }
  if (plan.workingDir) body.WorkingDir = plan.workingDir
  if (plan.user) body.User = plan.user
  if (plan.runs === 'stages' && options.driver) {
    body.Entrypoint = DRIVER_ENTRYPOINT
    body.OpenStdin = true
    body.AttachStdin = true
    body.AttachStdout = true
    body.AttachStderr = true
    // The stages' output is the main process's: read through the attach, it would also go
    // to the engine's log file, JSON-encoded, which cost dockerd seven times the CPU of
    // the output itself (8.2 s against 1.2 s per 200 MB). An exec's output is never logged.
    host.LogConfig = { Type: 'none', Config: {} }
  } else if (plan.runs === 'stages') {
    body.Entrypoint = ['tail']
    body.Cmd = ['-f', '/dev/null']
  } else {
    if (plan.entrypoint) body.Entrypoint = plan.entrypoint
    if (plan.command) body.Cmd = plan.command
    body.AttachStdout = true
    body.AttachStderr = true
  }
  if (res.memoryBytes !== undefined) host.Memory = res.memoryBytes
  if (res.memorySwapBytes !== undefined) host.MemorySwap = res.memorySwapBytes
  // A soft limit on one engine; a CPU reservation has no meaning where nothing schedules.
  if (res.memoryReservationBytes !== undefined) host.MemoryReservation = res.memoryReservationBytes
  if (res.cpus !== undefined) host.NanoCpus = Math.round(res.cpus * 1e9)
  if (res.cpusetCpus) host.CpusetCpus = res.cpusetCpus
  if (res.pidsLimit !== undefined) host.PidsLimit = res.pidsLimit
  if (res.shmSizeBytes !== undefined) host.ShmSize = res.shmSizeBytes
  if (res.gpus) {
    const { driver, count, deviceIds, capabilities } = res.gpus
    host.DeviceRequests = [
      {
        Driver: driver,
        Count: count,
        ...(deviceIds ? { DeviceIDs: deviceIds } : {}),
        Capabilities: [capabilities]
      }
    ]
  }
  if (res.ulimits.length > 0)
    host.Ulimits = res.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }))
  if (sec.readOnlyRootfs) host.ReadonlyRootfs = true
  if (sec.capAdd.length > 0) host.CapAdd = sec.capAdd
  if (sec.capDrop.length > 0) host.CapDrop = sec.capDrop
  if (sec.privileged) host.Privileged = true
  if (sec.noNewPrivileges) host.SecurityOpt = ['no-new-privileges']
  host.NetworkMode = network.mode
  if (!isDockerNetworkMode(network.mode))
    body.NetworkingConfig = { EndpointsConfig: { [network.mode]: { Aliases: network.aliases } } }
  if (network.extraHosts.length > 0) host.ExtraHosts = network.extraHosts
  if (network.dns.length > 0) host.Dns = network.dns
  if (network.ports.length > 0) {
    body.ExposedPorts = {}
    host.PortBindings = {}
    for (const port of network.ports) {
      body.ExposedPorts[port.container] = {}
      host.PortBindings[port.container] = [
        port.hostIp === undefined
          ? { HostPort: port.hostPort }
          : { HostIp: port.hostIp, HostPort: port.hostPort }
      ]
    }
  }
  if (plan.healthcheck) body.Healthcheck = healthConfig(plan.healthcheck)
  return body
}
