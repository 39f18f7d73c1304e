import path from 'node:path'
import type { ContainerSpec, NetworkSpec } from '../spec/pipeline-types.js'
import { parseCpu, parseMemory } from '../spec/quantities.js'
import { CTR_ROOT, jobWorkDir, WORKSPACE_DIR } from './container-paths.js'
import { planImage, type ImageSource } from './image-plan.js'
import { LABEL_INSTANCE, LABEL_JOB, LABEL_SERVICE, runLabels } from './labels.js'
import type { PlannedInstance } from './pipeline-plan.js'

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
  ExposedPorts?: Record<string, Record<string, never>>
  /** Docker's HEALTHCHECK; durations in nanoseconds. */
  Healthcheck?: {
    Test: string[]
    Interval: number
    Timeout: number
    Retries: number
    StartPeriod: number
  }
  /** The network of `NetworkMode` and the names the container answers to on it. */
  NetworkingConfig?: { EndpointsConfig: Record<string, { Aliases: string[] }> }
  HostConfig: {
    NetworkMode?: string
    PortBindings?: Record<string, Array<{ HostIp?: string; HostPort: string }>>
    Mounts: Array<{ Type: 'bind' | 'volume'; Source: string; Target: string; ReadOnly: boolean }>
    Memory?: number
    MemorySwap?: number
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

export interface PlannedContainer {
  name: string
  body: ContainerCreateBody
  /** Where the image comes from: the engine makes it ready before creating the container. */
  image: ImageSource
  /** `os/arch[/variant]`: the create call's `platform` query parameter. */
  platform?: string
}

export interface ContainerPlanContext {
  runId: string
  /** Folder of the pipeline file: relative mount sources resolve against it. */
  pipelineDir: string
  workflowVolume: string
  /** Engine names of the top-level named volumes, by their key in the file. */
  namedVolumes: Record<string, string>
  /** The run's network, which jobs join unless they set `network_mode`. */
  runNetwork: string
  /** Renders `{{ }}` and `${VAR}` in a value of `runs-on.with`. */
  renderValue: (text: string) => string
  /** The changed files the job's `changed_files` matched: `$CTR_CHANGED_FILES`, one per line. */
  changedFiles?: readonly string[]
}

/** A value in `runs-on.with` that is wrong once its expressions are rendered. */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError'
}

/**
 * Maps a job's `runs-on.with` to the Engine API's create body: a pure function, so the
 * mapping from the file's words to Docker's is tested as a table. A mount whose source is
 * the key of a top-level volume mounts that volume; any other source is a host path.
 *
 * A job with stages gets a container that idles (`tail -f /dev/null`, as GitHub's
 * container jobs do) while its stages are exec'd into it; a job without stages runs the
 * image's own entrypoint with `command`.
 */
export function planContainer(
  instance: Pick<PlannedInstance, 'job' | 'slug'>,
  ctx: ContainerPlanContext
): PlannedContainer {
  const { job } = instance
  const spec = job.container
  const r = ctx.renderValue
  const environment = Object.entries(spec.environment).map(([k, v]) => `${k}=${r(v)}`)
  const image = planImage(
    spec,
    { runId: ctx.runId, jobId: job.id, pipelineDir: ctx.pipelineDir },
    r
  )
  const body: ContainerCreateBody = {
    Image: image.ref,
    Env: [
      ...environment,
      `CTR_WORKSPACE=${WORKSPACE_DIR}`,
      `CTR_RUN_ID=${ctx.runId}`,
      `CTR_JOB_ID=${job.id}`,
      `CTR_JOB_DIR=${jobWorkDir(instance.slug)}`,
      ...(ctx.changedFiles ? [`CTR_CHANGED_FILES=${ctx.changedFiles.join('\n')}`] : [])
    ],
    Labels: {
      ...Object.fromEntries(Object.entries(spec.labels).map(([k, v]) => [k, r(v)])),
      ...runLabels(ctx.runId),
      [LABEL_JOB]: job.id,
      [LABEL_INSTANCE]: instance.slug
    },
    HostConfig: {
      Mounts: [
        { Type: 'volume', Source: ctx.workflowVolume, Target: CTR_ROOT, ReadOnly: false },
        ...spec.volumes.map((v) => {
          const source = r(v.source)
          const named = Object.hasOwn(ctx.namedVolumes, source)
          return {
            Type: named ? ('volume' as const) : ('bind' as const),
            Source: named ? ctx.namedVolumes[source] : path.resolve(ctx.pipelineDir, source),
            Target: r(v.target),
            ReadOnly: v.mode === 'ro'
          }
        })
      ]
    }
  }
  if (spec.working_dir) body.WorkingDir = r(spec.working_dir)
  if (spec.user) body.User = r(spec.user)
  if (job.stages) {
    body.Entrypoint = ['tail']
    body.Cmd = ['-f', '/dev/null']
  } else {
    if (spec.entrypoint) body.Entrypoint = spec.entrypoint.map(r)
    if (spec.command) body.Cmd = spec.command.map(r)
    body.AttachStdout = true
    body.AttachStderr = true
  }
  const { memory, cpu, cpuset_cpus, memswap_limit } = spec.resources
  if (memory) body.HostConfig.Memory = quantity(r(memory), parseMemory, 'resources.memory')
  if (memswap_limit) {
    const text = r(memswap_limit)
    body.HostConfig.MemorySwap =
      text === '-1' ? -1 : quantity(text, parseMemory, 'resources.memswap_limit')
  }
  if (cpu) body.HostConfig.NanoCpus = quantity(r(cpu), parseCpu, 'resources.cpu')
  if (cpuset_cpus) body.HostConfig.CpusetCpus = r(cpuset_cpus)
  const { pids_limit, shm_size, gpus } = spec.resources
  if (pids_limit !== undefined) body.HostConfig.PidsLimit = pids_limit
  if (shm_size) body.HostConfig.ShmSize = quantity(r(shm_size), parseMemory, 'shm_size')
  if (gpus) {
    body.HostConfig.DeviceRequests = [
      {
        Driver: gpus.driver ?? '',
        // Docker's --gpus: all devices (-1) unless a count or device ids are given.
        Count: gpus.device_ids ? 0 : (gpus.count ?? -1),
        ...(gpus.device_ids ? { DeviceIDs: gpus.device_ids } : {}),
        Capabilities: [gpus.capabilities]
      }
    ]
  }
  mapSecurity(spec, body, r)
  mapNetwork(spec.network, body, r)
  if (!spec.network.network_mode) joinNetwork(body, ctx.runNetwork, [instance.slug])
  const planned: PlannedContainer = { name: containerName(instance, ctx), body, image }
  if (spec.platform) planned.platform = r(spec.platform)
  return planned
}

/** Filesystem and privilege options: tmpfs, ulimits, read-only root, capabilities. */
function mapSecurity(spec: ContainerSpec, body: ContainerCreateBody, r: (t: string) => string) {
  const host = body.HostConfig
  const tmpfs = Object.entries(spec.tmpfs)
  if (tmpfs.length > 0) host.Tmpfs = Object.fromEntries(tmpfs.map(([t, o]) => [r(t), r(o)]))
  const ulimits = Object.entries(spec.ulimits)
  if (ulimits.length > 0) {
    host.Ulimits = ulimits.map(([Name, { soft, hard }]) => ({ Name, Soft: soft, Hard: hard }))
  }
  if (spec.read_only) host.ReadonlyRootfs = true
  if (spec.cap_add.length > 0) host.CapAdd = spec.cap_add.map(r)
  if (spec.cap_drop.length > 0) host.CapDrop = spec.cap_drop.map(r)
  if (spec.privileged) host.Privileged = true
}

/** Puts a container on a user-defined network, where `aliases` resolve to it. */
function joinNetwork(body: ContainerCreateBody, network: string, aliases: string[]) {
  body.HostConfig.NetworkMode = network
  body.NetworkingConfig = { EndpointsConfig: { [network]: { Aliases: aliases } } }
}

/**
 * A job's service container (`services.KEY`): on the job instance's own network, where it
 * answers to KEY, labelled with the run, the job and the service.
 */
export function planService(
  instance: Pick<PlannedInstance, 'job' | 'slug'>,
  key: string,
  ctx: Pick<ContainerPlanContext, 'runId' | 'renderValue'> & { network: string }
): PlannedContainer {
  const service = instance.job.services[key]
  const r = ctx.renderValue
  const image = r(service.image)
  const body: ContainerCreateBody = {
    Image: image,
    Env: Object.entries(service.env).map(([k, v]) => `${k}=${r(v)}`),
    Labels: {
      ...runLabels(ctx.runId),
      [LABEL_JOB]: instance.job.id,
      [LABEL_INSTANCE]: instance.slug,
      [LABEL_SERVICE]: key
    },
    HostConfig: { Mounts: [] }
  }
  if (service.command) body.Cmd = service.command.map(r)
  const check = service.healthcheck
  if (check) {
    const ns = (ms: number) => ms * 1_000_000
    body.Healthcheck = {
      Test: check.test.map(r),
      Interval: ns(check.interval_ms),
      Timeout: ns(check.timeout_ms),
      Retries: check.retries,
      StartPeriod: ns(check.start_period_ms)
    }
  }
  mapPorts(service.ports, body, r)
  joinNetwork(body, ctx.network, [key])
  const name = `ctr-${ctx.runId}-${instance.slug}-${key}`.replace(/[^a-zA-Z0-9_.-]/g, '-')
  return { name, body, image: { kind: 'pull', ref: image, policy: 'missing' } }
}

/** `network_mode` and `ports` as `docker run --network` and `-p` set them. */
function mapNetwork(network: NetworkSpec, body: ContainerCreateBody, r: (t: string) => string) {
  if (network.network_mode) body.HostConfig.NetworkMode = r(network.network_mode)
  const hosts = Object.entries(network.extra_hosts)
  if (hosts.length > 0) body.HostConfig.ExtraHosts = hosts.map(([h, ip]) => `${r(h)}:${r(ip)}`)
  if (network.dns.length > 0) body.HostConfig.Dns = network.dns.map(r)
  mapPorts(network.ports, body, r)
}

/** `-p`: container port (`8080`, `53/udp`) to host port (`8080`, `127.0.0.1:8080`, any). */
function mapPorts(
  portMap: Record<string, string | null>,
  body: ContainerCreateBody,
  r: (t: string) => string
) {
  const ports = Object.entries(portMap)
  if (ports.length === 0) return
  body.ExposedPorts = {}
  body.HostConfig.PortBindings = {}
  for (const [containerPort, host] of ports) {
    const key = containerPort.includes('/') ? containerPort : `${containerPort}/tcp`
    const hostText = host === null ? '' : r(host)
    const colon = hostText.lastIndexOf(':')
    body.ExposedPorts[key] = {}
    body.HostConfig.PortBindings[key] = [
      colon < 0
        ? { HostPort: hostText }
        : { HostIp: hostText.slice(0, colon), HostPort: hostText.slice(colon + 1) }
    ]
  }
}

function quantity(text: string, parse: (t: string) => number | undefined, key: string): number {
  const value = parse(text)
  if (value === undefined) throw new ContainerConfigError(`${key}: '${text}' is not valid`)
  return value
}

/**
 * The container's name: `container_name` with `{run_id}` replaced, or `ctr-RUN-INSTANCE`.
 * In a matrix, `-N` (the instance's number) is appended so that instances running side
 * by side never ask for the same name.
 */
function containerName(
  { job, slug }: Pick<PlannedInstance, 'job' | 'slug'>,
  ctx: ContainerPlanContext
): string {
  const requested = job.container.container_name
  const name = requested
    ? ctx.renderValue(requested.replaceAll('{run_id}', ctx.runId)) + slug.slice(job.id.length)
    : `ctr-${ctx.runId}-${slug}`
  const safe = name.replace(/[^a-zA-Z0-9_.-]/g, '-').replace(/^[^a-zA-Z0-9]+/, '')
  if (!safe) throw new ContainerConfigError(`container_name '${name}' has no usable characters`)
  return safe
}
