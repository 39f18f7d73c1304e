import path from 'node:path'
import type { ContainerSpec, NetworkSpec, VolumeSpec } from '../pipeline/pipeline-types.js'
import { parseCpu, parseMemory } from '../pipeline/quantities.js'
import { CTR_ROOT, jobWorkDir, WORKSPACE_DIR } from './container-paths.js'
import { planAuth, planImage, type ImageSource, type PulledImage } from './image-plan.js'
import { LABEL_INSTANCE, LABEL_JOB, LABEL_SERVICE, runLabels } from './labels.js'
import type { PlannedInstance } from './pipeline-plan.js'
import { ContainerConfigError } from './container-config-error.js'

/**
 * Where a container's folder comes from: the run's shared workspace (every job of the
 * run sees the same one), a named volume, a host path, or memory.
 */
export type MountPlan =
  | { type: 'workspace'; target: string }
  | { type: 'volume'; source: string; target: string; readOnly: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean }
  | { type: 'tmpfs'; target: string; options: string }

/** A published port: `container` is `PORT/PROTOCOL`; an empty `hostPort` is any free one. */
export interface PortPlan {
  container: string
  hostIp?: string
  hostPort: string
}

/** A container's network, as the file asks for it. */
export interface NetworkPlan {
  /**
   * What the container joins: the name of a network the run creates (the run's own, or a
   * job's services network), or `network_mode` as written (`none`, `host`, `bridge`,
   * `container:NAME`).
   */
  mode: string
  /** The names it answers to on a network the run creates. */
  aliases: string[]
  ports: PortPlan[]
  /** `host:ip` entries for its hosts file. */
  extraHosts: string[]
  dns: string[]
}

/**
 * Whether a network mode is one of Docker's own (`none`, `host`, `bridge`, `default`,
 * `container:NAME`) rather than a network to join, where aliases resolve.
 */
export function isDockerNetworkMode(mode: string): boolean {
  return /^(none|host|bridge|default|container:.*)$/.test(mode)
}

/** What a container may use; every figure is a plain number in its unit. */
export interface ResourcesPlan {
  memoryBytes?: number
  /** Memory plus swap; -1 is unlimited swap. */
  memorySwapBytes?: number
  cpus?: number
  /** What it is sure to get (`memory_reservation`, `cpu_reservation`): never above a limit. */
  memoryReservationBytes?: number
  cpuReservation?: number
  cpusetCpus?: string
  pidsLimit?: number
  shmSizeBytes?: number
  /** GPUs: `count` -1 is all of them, 0 when `deviceIds` names them. */
  gpus?: { driver: string; count: number; deviceIds?: string[]; capabilities: string[] }
  ulimits: Array<{ name: string; soft: number; hard: number }>
}

/** What a container may do beyond an ordinary process. */
export interface SecurityPlan {
  privileged: boolean
  capAdd: string[]
  capDrop: string[]
  readOnlyRootfs: boolean
  noNewPrivileges: boolean
}

/** A service's health check; durations in milliseconds. */
export interface HealthcheckPlan {
  test: string[]
  intervalMs: number
  timeoutMs: number
  retries: number
  startPeriodMs: number
}

/**
 * One container to run, in neutral terms: what every backend (and every export) reads,
 * and what `plan --json` prints. It says what the file asks for, every value rendered;
 * how a backend makes it real (a Docker create body, a Swarm service, a pod) is the
 * backend's business. Keep it stable: the README documents it.
 */
export interface ContainerPlan {
  /** The run it belongs to. */
  runId: string
  /** A name unique within the run's backend. */
  name: string
  /** Where the image comes from: the backend makes it ready before the container starts. */
  image: ImageSource
  /** `os/arch[/variant]` of the image, when the file picks one. */
  platform?: string
  /** Where an orchestrator may run it; a backend with one engine leaves it aside. */
  placement?: { constraints: string[]; spreads: string[] }
  /**
   * `stages`: the container stays up, and the job's stages run in it one by one;
   * `command`: it runs its own entrypoint and command, and its exit is the job's.
   */
  runs: 'stages' | 'command'
  entrypoint?: string[]
  command?: string[]
  env: Record<string, string>
  labels: Record<string, string>
  workingDir?: string
  user?: string
  mounts: MountPlan[]
  resources: ResourcesPlan
  network: NetworkPlan
  security: SecurityPlan
  healthcheck?: HealthcheckPlan
  /**
   * The job's `artifacts:` (paths or globs, relative ones from its working folder): what
   * the run keeps of it after it ends. A backend that cannot copy out of an ended
   * container (a Swarm task) collects them as it ends.
   */
  artifacts?: string[]
}

/**
 * The host path behind a path in the container, when it lies in a bind mount (a stage
 * that reports on `/data/sales.csv` means the repository's `data/sales.csv`); otherwise
 * the path as given.
 */
export function hostPathOf(containerPath: string, mounts: readonly MountPlan[]): string {
  if (!containerPath.startsWith('/')) return containerPath
  const inside = mounts
    .flatMap((m) => (m.type === 'bind' ? [m] : []))
    .filter((m) => containerPath === m.target || containerPath.startsWith(`${m.target}/`))
    // The deepest mount is the one the container sees at that path.
    .sort((a, b) => b.target.length - a.target.length)[0]
  if (!inside) return containerPath
  return `${inside.source}${containerPath.slice(inside.target.length)}`
}

export interface ContainerPlanContext {
  runId: string
  /** Folder of the pipeline file: relative mount sources resolve against it. */
  pipelineDir: string
  /** Engine names of the top-level named volumes, by their key in the file. */
  namedVolumes: Record<string, string>
  /** The run's network, which jobs join unless they set `network_mode`. */
  runNetwork: string
  /** Renders `{{ }}` and `${VAR}` in a value of `runs-on.with`. */
  renderValue: (text: string) => string
  /**
   * Renders a command's words, a list-valued expression as that many words; without it,
   * each word is rendered by renderValue.
   */
  renderWords?: (words: readonly string[]) => string[]
  /** The changed files the job's `changed_files` matched: `$CTR_CHANGED_FILES`, one per line. */
  changedFiles?: readonly string[]
  /**
   * A host folder that is the workspace (`run --instance`): what upstream jobs on other
   * runners left, handed in and out as that folder, bound over the volume's.
   */
  workspaceDir?: string
}

/**
 * Plans a job's container from its `runs-on.with`: a pure function, so the mapping from
 * the file's words to the plan's is tested as a table. A mount whose source is the key of
 * a top-level volume mounts that volume; any other source is a host path, resolved
 * against the pipeline's folder. The run's workspace is always mounted at CTR_ROOT.
 */
export function planContainer(
  instance: Pick<PlannedInstance, 'job' | 'slug'>,
  ctx: ContainerPlanContext
): ContainerPlan {
  const { job } = instance
  const spec = job.container
  const r = ctx.renderValue
  const image = planImage(
    spec,
    { runId: ctx.runId, jobId: job.id, pipelineDir: ctx.pipelineDir },
    r
  )
  const planned: ContainerPlan = {
    runId: ctx.runId,
    name: containerName(instance, ctx),
    image,
    runs: job.stages ? 'stages' : 'command',
    env: {
      ...Object.fromEntries(Object.entries(spec.environment).map(([k, v]) => [k, r(v)])),
      CTR_WORKSPACE: WORKSPACE_DIR,
      CTR_RUN_ID: ctx.runId,
      CTR_JOB_ID: job.id,
      CTR_JOB_DIR: jobWorkDir(instance.slug),
      ...(ctx.changedFiles ? { CTR_CHANGED_FILES: ctx.changedFiles.join('\n') } : {})
    },
    labels: {
      ...Object.fromEntries(Object.entries(spec.labels).map(([k, v]) => [k, r(v)])),
      ...runLabels(ctx.runId),
      [LABEL_JOB]: job.id,
      [LABEL_INSTANCE]: instance.slug
    },
    mounts: [
      { type: 'workspace', target: CTR_ROOT },
      ...(ctx.workspaceDir
        ? [
            {
              type: 'bind',
              source: ctx.workspaceDir,
              target: WORKSPACE_DIR,
              readOnly: false
            } as const
          ]
        : []),
      ...planMounts(spec.volumes, ctx),
      ...Object.entries(spec.tmpfs).map(([target, options]): MountPlan => ({
        type: 'tmpfs',
        target: r(target),
        options: r(options)
      }))
    ],
    resources: planResources(spec, r),
    network: planNetwork(spec.network, r, {
      mode: ctx.runNetwork,
      aliases: [instance.slug]
    }),
    security: {
      privileged: spec.privileged,
      capAdd: spec.cap_add.map(r),
      capDrop: spec.cap_drop.map(r),
      readOnlyRootfs: spec.read_only,
      noNewPrivileges: false
    }
  }
  if (spec.platform) planned.platform = r(spec.platform)
  if (spec.placement)
    planned.placement = {
      constraints: spec.placement.constraints.map(r),
      spreads: spec.placement.preferences.map((p) => r(p.spread))
    }
  if (spec.working_dir) planned.workingDir = r(spec.working_dir)
  if (spec.user) planned.user = r(spec.user)
  if (job.artifacts.length > 0) planned.artifacts = job.artifacts
  if (!job.stages) {
    const words = wordRenderer(ctx)
    if (spec.entrypoint) planned.entrypoint = words(spec.entrypoint)
    if (spec.command) planned.command = words(spec.command)
  }
  return planned
}

/**
 * `volumes:` of a job or a service, rendered: a source that is the key of a top-level
 * volume mounts that volume; any other is a host path, resolved against the pipeline's
 * folder.
 */
function planMounts(
  volumes: readonly VolumeSpec[],
  ctx: Pick<ContainerPlanContext, 'pipelineDir' | 'namedVolumes' | 'renderValue'>
): MountPlan[] {
  const r = ctx.renderValue
  return volumes.map((v): MountPlan => {
    const source = r(v.source)
    const target = r(v.target)
    const readOnly = v.mode === 'ro'
    return Object.hasOwn(ctx.namedVolumes, source)
      ? { type: 'volume', source: ctx.namedVolumes[source], target, readOnly }
      : { type: 'bind', source: path.resolve(ctx.pipelineDir, source), target, readOnly }
  })
}

/** `resources:` and `ulimits:`, each figure parsed to bytes or CPUs once rendered. */
function planResources(spec: ContainerSpec, r: (t: string) => string): ResourcesPlan {
  const { memory, cpu, cpuset_cpus, memswap_limit, pids_limit, shm_size, gpus } = spec.resources
  const resources: ResourcesPlan = {
    ulimits: Object.entries(spec.ulimits).map(([name, { soft, hard }]) => ({ name, soft, hard }))
  }
  if (memory) resources.memoryBytes = quantity(r(memory), parseMemory, 'resources.memory')
  if (memswap_limit) {
    const text = r(memswap_limit)
    resources.memorySwapBytes =
      text === '-1' ? -1 : quantity(text, parseMemory, 'resources.memswap_limit')
  }
  if (cpu) resources.cpus = quantity(r(cpu), parseCpu, 'resources.cpu') / 1e9
  const { memory_reservation: memoryReserved, cpu_reservation: cpuReserved } = spec.resources
  if (memoryReserved)
    resources.memoryReservationBytes = reservation('memory', memoryReserved, parseMemory, spec, r)
  if (cpuReserved)
    resources.cpuReservation = reservation('cpu', cpuReserved, parseCpu, spec, r) / 1e9
  if (cpuset_cpus) resources.cpusetCpus = r(cpuset_cpus)
  if (pids_limit !== undefined) resources.pidsLimit = pids_limit
  if (shm_size) resources.shmSizeBytes = quantity(r(shm_size), parseMemory, 'shm_size')
  if (gpus) {
    resources.gpus = {
      driver: gpus.driver ?? '',
      // Docker's --gpus: all devices (-1) unless a count or device ids are given.
      count: gpus.device_ids ? 0 : (gpus.count ?? -1),
      ...(gpus.device_ids ? { deviceIds: gpus.device_ids } : {}),
      capabilities: gpus.capabilities
    }
  }
  return resources
}

/**
 * A `<key>_reservation` as its parser reads it once rendered; one above the `<key>` limit
 * is refused, naming both as written.
 */
function reservation(
  key: 'memory' | 'cpu',
  text: string,
  parse: (text: string) => number | undefined,
  spec: ContainerSpec,
  r: (t: string) => string
): number {
  const reserved = quantity(r(text), parse, `resources.${key}_reservation`)
  const limit = spec.resources[key]
  if (limit !== undefined && reserved > quantity(r(limit), parse, `resources.${key}`))
    throw new ContainerConfigError(
      `resources.${key}_reservation (${r(text)}) is more than resources.${key} (${r(limit)}): a job cannot be sure of more than it may use`
    )
  return reserved
}

/**
 * `network:`; without `network_mode`, the container joins `joined` (a network of the run)
 * where its aliases resolve to it.
 */
function planNetwork(
  network: Pick<NetworkSpec, 'network_mode' | 'ports' | 'extra_hosts' | 'dns'>,
  r: (t: string) => string,
  joined: { mode: string; aliases: string[] }
): NetworkPlan {
  const mode = network.network_mode ? r(network.network_mode) : undefined
  return {
    mode: mode ?? joined.mode,
    aliases: mode ? [] : joined.aliases,
    ports: planPorts(network.ports, r),
    extraHosts: Object.entries(network.extra_hosts).map(([h, ip]) => `${r(h)}:${r(ip)}`),
    dns: network.dns.map(r)
  }
}

/**
 * A job's service container (`services.KEY`): on the job instance's own network, where it
 * answers to KEY, labelled with the run, the job and the service.
 */
export function planService(
  instance: Pick<PlannedInstance, 'job' | 'slug'>,
  key: string,
  ctx: Pick<
    ContainerPlanContext,
    'runId' | 'pipelineDir' | 'namedVolumes' | 'renderValue' | 'renderWords'
  > & { network: string }
): ContainerPlan {
  const service = instance.job.services[key]
  const r = ctx.renderValue
  const ref = r(service.image)
  const image: PulledImage = { kind: 'pull', ref, policy: 'missing' }
  if (service.auth) image.auth = planAuth(service.auth, ref, r)
  const planned: ContainerPlan = {
    runId: ctx.runId,
    name: `ctr-${ctx.runId}-${instance.slug}-${key}`.replace(/[^a-zA-Z0-9_.-]/g, '-'),
    image,
    runs: 'command',
    env: Object.fromEntries(Object.entries(service.env).map(([k, v]) => [k, r(v)])),
    labels: {
      ...runLabels(ctx.runId),
      [LABEL_JOB]: instance.job.id,
      [LABEL_INSTANCE]: instance.slug,
      [LABEL_SERVICE]: key
    },
    mounts: planMounts(service.volumes, ctx),
    resources: { ulimits: [] },
    network: planNetwork({ ports: service.ports, extra_hosts: {}, dns: [] }, r, {
      mode: ctx.network,
      aliases: [key]
    }),
    security: {
      privileged: false,
      capAdd: [],
      capDrop: [],
      readOnlyRootfs: false,
      noNewPrivileges: false
    }
  }
  if (service.user) planned.user = r(service.user)
  if (service.command) planned.command = wordRenderer(ctx)(service.command)
  const check = service.healthcheck
  if (check) {
    planned.healthcheck = {
      test: check.test.map(r),
      intervalMs: check.interval_ms,
      timeoutMs: check.timeout_ms,
      retries: check.retries,
      startPeriodMs: check.start_period_ms
    }
  }
  return planned
}

/** `ports:` as `-p` reads them: container port (`8080`, `53/udp`) to host (`8080`, `127.0.0.1:8080`, any). */
function planPorts(portMap: Record<string, string | null>, r: (t: string) => string): PortPlan[] {
  return Object.entries(portMap).map(([containerPort, host]) => {
    const container = containerPort.includes('/') ? containerPort : `${containerPort}/tcp`
    const hostText = host === null ? '' : r(host)
    const colon = hostText.lastIndexOf(':')
    return colon < 0
      ? { container, hostPort: hostText }
      : { container, hostIp: hostText.slice(0, colon), hostPort: hostText.slice(colon + 1) }
  })
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

function wordRenderer(ctx: Pick<ContainerPlanContext, 'renderValue' | 'renderWords'>) {
  return ctx.renderWords ?? ((words: readonly string[]) => words.map(ctx.renderValue))
}
