import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar'
import type { IHostAlias } from 'kubernetes-models/v1/HostAlias'
import type { IVolume } from 'kubernetes-models/v1/Volume'
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount'
import type { ContainerPlan, MountPlan } from '../../plan/container-plan.js'
import { parseMemory } from '../../pipeline/quantities.js'
import type { SourcePosition } from '../../pipeline/file-problems.js'
import { mappedPath, type HostMap } from './host-map.js'
import {
  asWritten,
  onlySecret,
  placeholdersIn,
  replacePlaceholders,
  type Placeholder
} from './placeholders.js'
import { LABEL_NAMESPACE } from '../../plan/labels.js'

/** Something of a container plan a cluster cannot be given; at `position` when it is known. */
export class ExportProblem extends Error {
  override name = 'ExportProblem'
  constructor(
    message: string,
    readonly position?: SourcePosition
  ) {
    super(message)
  }
}

const PULL_POLICY = { always: 'Always', never: 'Never', missing: 'IfNotPresent' } as const

/** The name of the run's shared workspace volume in every pod. */
export const WORKSPACE_VOLUME = 'workspace'

/** What a pod needs besides its container: volumes, node selection, host entries. */
export interface PodParts {
  container: IContainer
  volumes: IVolume[]
  nodeSelector: Record<string, string>
  hostAliases: IHostAlias[]
  hostNetwork: boolean
  labels: Record<string, string>
}

export interface PodContext {
  /** How the target writes a placeholder outside an environment value. */
  reference: (p: Placeholder) => string
  /** The Kubernetes Secret `${VAR}`s come from, one key per variable. */
  secretName: string
  maps: readonly HostMap[]
  /** Where each bind mount of the plan is in the file, in order. */
  hostMounts: readonly SourcePosition[]
  /** The name of the pod volume for a top-level named volume's key. */
  namedVolume: (key: string) => string
  /** Keys (DROPPABLE_KEYS) the user chose to leave out (`--drop`), rather than fail on. */
  dropped: ReadonlySet<string>
}

/**
 * Keys a target may have no counterpart for (a cluster's container, or Batch and plain
 * Jobs for `max_parallel`), which `--drop` may leave out.
 */
export const DROPPABLE_KEYS = [
  'max_parallel',
  'memswap_limit',
  'cpuset_cpus',
  'pids_limit',
  'ulimits',
  'dns',
  'placement.preferences',
  'retry.delay',
  'on.schedule',
  'on.release'
]

/**
 * Maps a neutral container plan to a Kubernetes container and what its pod needs. Every
 * key of the plan either maps or is an ExportProblem: a cluster run that silently lost a
 * memory limit or a mount would be worse than an export that stops.
 */
export function podParts(plan: ContainerPlan, ctx: PodContext): PodParts {
  const refs = (text: string) => {
    if (placeholdersIn(text).some((p) => p.kind === 'secret'))
      throw new ExportProblem(
        `'\${VAR}' in ${JSON.stringify(asWritten(text))}: on a cluster, only runs-on.with.environment values can come from the Secret`
      )
    return replacePlaceholders(text, ctx.reference)
  }
  if (plan.image.kind !== 'pull')
    throw new ExportProblem(
      'build: a cluster pulls its images: name the built image with image (and push it there)'
    )
  const volumes: IVolume[] = []
  const container: IContainer = {
    name: 'main',
    image: refs(plan.image.ref),
    imagePullPolicy: PULL_POLICY[plan.image.policy],
    env: environment(plan.env, ctx),
    volumeMounts: plan.mounts.flatMap((mount, i): IVolumeMount[] => {
      const bindIndex = plan.mounts.slice(0, i).filter((m) => m.type === 'bind').length
      const made = volumeOf(mount, i, ctx, ctx.hostMounts[bindIndex])
      if (made.volume) volumes.push(made.volume)
      return [made.mount]
    })
  }
  if (plan.entrypoint) container.command = plan.entrypoint.map(refs)
  if (plan.command) container.args = plan.command.map(refs)
  if (plan.workingDir) container.workingDir = refs(plan.workingDir)
  const resources = resourcesOf(plan, ctx.dropped)
  if (resources.shm) {
    volumes.push({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: resources.shm } })
    container.volumeMounts!.push({ name: 'dshm', mountPath: '/dev/shm' })
  }
  if (resources.limits || resources.requests) {
    container.resources = {}
    if (resources.limits) container.resources.limits = resources.limits
    if (resources.requests) container.resources.requests = resources.requests
  }
  const security = securityOf(plan)
  if (security) container.securityContext = security
  const ports = plan.network.ports.map((p) => {
    const [port, protocol] = p.container.split('/')
    return {
      containerPort: Number(port),
      protocol: protocol.toUpperCase() as 'TCP' | 'UDP' | 'SCTP',
      ...(p.hostPort ? { hostPort: Number(p.hostPort) } : {}),
      ...(p.hostIp ? { hostIP: p.hostIp } : {})
    }
  })
  if (ports.length > 0) container.ports = ports
  const mode = plan.network.mode
  // Docker's own default network is, on a cluster, the pod network every pod joins.
  if (!['ctr-run', 'bridge', 'default', 'host'].includes(mode))
    throw new ExportProblem(
      `network_mode: ${mode} has no counterpart on a cluster (a pod joins the cluster's network, or the host's with network_mode: host)`
    )
  if (plan.network.dns.length > 0 && !ctx.dropped.has('dns'))
    throw new ExportProblem('network.dns: set the cluster DNS instead; a pod has no --dns')
  return {
    container,
    volumes,
    nodeSelector: nodeSelectorOf(plan, ctx.dropped),
    hostAliases: plan.network.extraHosts.map((entry) => {
      const colon = entry.indexOf(':')
      return { ip: entry.slice(colon + 1), hostnames: [entry.slice(0, colon)] }
    }),
    hostNetwork: mode === 'host',
    labels: Object.fromEntries(
      Object.entries(plan.labels).filter(([key]) => !key.startsWith(LABEL_NAMESPACE))
    )
  }
}

/**
 * The environment: `${VAR}` from the Secret. A value that is one `${VAR}` is that key of
 * the Secret; one with `${VAR}` inside reads it through an environment variable of its
 * own name, with Kubernetes' `$(NAME)` (so every other `$` is doubled, which Kubernetes
 * reads back as one).
 */
function environment(env: Record<string, string>, ctx: PodContext): IEnvVar[] {
  const secrets = new Set<string>()
  const plain: IEnvVar[] = []
  for (const [name, value] of Object.entries(env)) {
    const only = onlySecret(value)
    if (only !== undefined) {
      plain.push({ name, valueFrom: { secretKeyRef: { name: ctx.secretName, key: only } } })
      continue
    }
    const found = placeholdersIn(value)
    let text = value.replaceAll('$', '$$$$')
    if (found.some((p) => p.kind === 'secret')) {
      text = replacePlaceholders(text, (p) => {
        if (p.kind !== 'secret') return ctx.reference(p)
        secrets.add(p.name)
        return `$(${p.name})`
      })
    } else text = replacePlaceholders(text, ctx.reference)
    plain.push({ name, value: text })
  }
  // Kubernetes expands $(NAME) only from variables defined before it.
  const defined = [...secrets]
    .filter((name) => !Object.hasOwn(env, name))
    .map((name) => ({ name, valueFrom: { secretKeyRef: { name: ctx.secretName, key: name } } }))
  return [...defined, ...plain]
}

/** A tmpfs mount's `size=` option in bytes; undefined without one. Any other size is an ExportProblem. */
export function tmpfsBytes(mount: { target: string; options: string }): number | undefined {
  const size = /(?:^|,)size=([^,]+)/.exec(mount.options)?.[1]
  if (size === undefined) return undefined
  const bytes = parseMemory(size)
  if (bytes === undefined)
    throw new ExportProblem(`tmpfs ${mount.target}: size '${size}' is not a size`)
  return bytes
}

function volumeOf(
  mount: MountPlan,
  index: number,
  ctx: PodContext,
  position: SourcePosition | undefined
): { mount: IVolumeMount; volume?: IVolume } {
  switch (mount.type) {
    case 'workspace':
      return { mount: { name: WORKSPACE_VOLUME, mountPath: mount.target } }
    case 'volume':
      return {
        mount: {
          name: ctx.namedVolume(mount.source),
          mountPath: mount.target,
          readOnly: mount.readOnly
        }
      }
    case 'tmpfs': {
      const bytes = tmpfsBytes(mount)
      const name = `tmpfs-${index}`
      return {
        mount: { name, mountPath: mount.target },
        volume: {
          name,
          emptyDir: { medium: 'Memory', ...(bytes ? { sizeLimit: String(bytes) } : {}) }
        }
      }
    }
    case 'bind': {
      const mapped = mappedPath(mount.source, ctx.maps)
      if (!mapped)
        throw new ExportProblem(
          `the host folder ${mount.source} is not on the cluster's nodes: map it with --map ${mount.source}=pvc:CLAIM (or =hostPath:/PATH)`,
          position
        )
      const name = `host-${index}`
      const { to } = mapped.map
      const volume: IVolume =
        to.kind === 'pvc'
          ? { name, persistentVolumeClaim: { claimName: to.claim } }
          : { name, hostPath: { path: to.path } }
      const volumeMount: IVolumeMount = { name, mountPath: mount.target, readOnly: mount.readOnly }
      if (mapped.rest) volumeMount.subPath = mapped.rest
      return { mount: volumeMount, volume }
    }
  }
}

/** Bytes as a Kubernetes quantity: `256Mi` where it divides, else the bare number. */
function bytesQuantity(bytes: number): string {
  for (const [unit, size] of [
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024]
  ] as const)
    if (bytes % size === 0) return `${bytes / size}${unit}`
  return String(bytes)
}

/** CPUs as a Kubernetes quantity: `2`, or millicores (`500m`). */
function cpuQuantity(cpus: number): string {
  return Number.isInteger(cpus) ? String(cpus) : `${Math.round(cpus * 1000)}m`
}

function resourcesOf(
  plan: ContainerPlan,
  dropped: ReadonlySet<string>
): {
  limits?: Record<string, string>
  requests?: Record<string, string>
  shm?: string
} {
  const r = plan.resources
  const unsupported = [
    r.memorySwapBytes !== undefined && 'memswap_limit',
    r.cpusetCpus !== undefined && 'cpuset_cpus',
    r.pidsLimit !== undefined && 'pids_limit',
    r.ulimits.length > 0 && 'ulimits',
    r.gpus && (r.gpus.count < 1 || r.gpus.deviceIds) && 'gpus (all, or by device id)'
  ].filter((key): key is string => typeof key === 'string' && !dropped.has(key))
  if (unsupported.length > 0)
    throw new ExportProblem(
      `${unsupported.join(', ')}: a pod's container cannot be given this (Kubernetes sets it per node); --drop ${unsupported[0].split(' ')[0]} leaves it out`
    )
  const limits: Record<string, string> = {}
  const requests: Record<string, string> = {}
  if (r.memoryBytes !== undefined) limits.memory = bytesQuantity(r.memoryBytes)
  if (r.cpus !== undefined) limits.cpu = cpuQuantity(r.cpus)
  if (r.gpus) limits[`${r.gpus.driver || 'nvidia'}.com/gpu`] = String(r.gpus.count)
  if (r.memoryReservationBytes !== undefined)
    requests.memory = bytesQuantity(r.memoryReservationBytes)
  if (r.cpuReservation !== undefined) requests.cpu = cpuQuantity(r.cpuReservation)
  return {
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(r.shmSizeBytes !== undefined ? { shm: bytesQuantity(r.shmSizeBytes) } : {})
  }
}

/** A container's security context: privileges, capabilities, a numeric user. */
export function securityOf(plan: ContainerPlan): IContainer['securityContext'] {
  const s = plan.security
  const context: NonNullable<IContainer['securityContext']> = {}
  if (s.privileged) context.privileged = true
  if (s.readOnlyRootfs) context.readOnlyRootFilesystem = true
  if (s.capAdd.length > 0 || s.capDrop.length > 0)
    context.capabilities = {
      ...(s.capAdd.length > 0 ? { add: s.capAdd } : {}),
      ...(s.capDrop.length > 0 ? { drop: s.capDrop } : {})
    }
  if (plan.user !== undefined) {
    const match = /^(\d+)(?::(\d+))?$/.exec(plan.user)
    if (!match)
      throw new ExportProblem(
        `user: '${plan.user}': a pod runs as a numeric uid[:gid] (names are the image's own)`
      )
    context.runAsUser = Number(match[1])
    if (match[2] !== undefined) context.runAsGroup = Number(match[2])
  }
  return Object.keys(context).length > 0 ? context : undefined
}

/** `platform` and placement constraints on node labels, as node selector entries. */
function nodeSelectorOf(plan: ContainerPlan, dropped: ReadonlySet<string>): Record<string, string> {
  const selector: Record<string, string> = {}
  if (plan.platform) {
    const [os, arch] = plan.platform.split('/')
    selector['kubernetes.io/os'] = os
    if (arch) selector['kubernetes.io/arch'] = arch
  }
  for (const constraint of plan.placement?.constraints ?? []) {
    const match = /^node\.labels\.([^\s=!]+)\s*==\s*(\S+)$/.exec(constraint)
    if (!match)
      throw new ExportProblem(
        `placement constraint '${constraint}': a cluster selects nodes by label only (node.labels.KEY == VALUE)`
      )
    selector[match[1]] = match[2]
  }
  if ((plan.placement?.spreads.length ?? 0) > 0 && !dropped.has('placement.preferences'))
    throw new ExportProblem(
      'placement.preferences (spread) are not exported (topologySpreadConstraints differ); --drop placement.preferences leaves them out'
    )
  return selector
}

/**
 * The pod-level fields of a job's pod: its volumes, node selection and host names. A
 * service shares the job's pod, so its key names the pod's own address, as locally it
 * names the service's container.
 */
export function podSpecFields(
  pod: PodParts,
  services: readonly string[]
): {
  volumes?: IVolume[]
  nodeSelector?: Record<string, string>
  hostAliases?: IHostAlias[]
  hostNetwork?: true
} {
  const fields: ReturnType<typeof podSpecFields> = {}
  if (pod.volumes.length > 0) fields.volumes = pod.volumes
  if (Object.keys(pod.nodeSelector).length > 0) fields.nodeSelector = pod.nodeSelector
  const aliases = [...pod.hostAliases]
  if (services.length > 0) aliases.push({ ip: '127.0.0.1', hostnames: [...services] })
  if (aliases.length > 0) fields.hostAliases = aliases
  if (pod.hostNetwork) fields.hostNetwork = true
  return fields
}
