import type { ContainerPlan, MountPlan } from '../../plan/container-plan.js'
import { CTR_ROOT } from '../../plan/container-paths.js'
import { LABEL_NAMESPACE } from '../../plan/labels.js'
import type { ExportInstance } from '../shared/export-plan.js'
import { mappedPath } from '../shared/host-map.js'
import { ExportProblem, tmpfsBytes } from '../shared/pod-parts.js'
import type { ExportOptions } from '../shared/target-options.js'
import { plain } from './jinja-fields.js'
import { call, nonEmpty, type PyCall, type PyValue } from './python-code.js'

/**
 * A job instance as a DockerOperator (`--platform docker`); `uses` gathers what the DAG
 * file must import.
 */
export function dockerOperator(
  instance: ExportInstance,
  options: ExportOptions,
  script: string | undefined,
  common: Record<string, PyValue | undefined>,
  text: (t: string) => string,
  uses: Set<string>
): PyCall {
  const plan: ContainerPlan = instance.container
  if (plan.resources.ulimits.length > 0) uses.add('Ulimit')
  if (plan.image.kind !== 'pull')
    throw new ExportProblem(
      'build: the DockerOperator runs an image by name: build and push it, then name it in image'
    )
  const r = plan.resources
  const unsupported = [
    r.memoryReservationBytes !== undefined && 'memory_reservation',
    r.cpuReservation !== undefined && 'cpu_reservation',
    r.memorySwapBytes !== undefined && 'memswap_limit',
    r.cpusetCpus !== undefined && 'cpuset_cpus',
    r.pidsLimit !== undefined && 'pids_limit',
    r.gpus && 'gpus',
    plan.security.readOnlyRootfs && 'read_only',
    plan.security.capDrop.length > 0 && 'cap_drop',
    plan.placement && 'placement',
    plan.platform && 'platform'
  ].filter((key): key is string => typeof key === 'string' && !options.dropped.includes(key))
  if (unsupported.length > 0)
    throw new ExportProblem(`${unsupported.join(', ')}: the DockerOperator takes no such setting`)
  const mode = plan.network.mode
  const ports = plan.network.ports
  return call('DockerOperator', {
    ...common,
    image: text(plan.image.ref),
    force_pull: plan.image.policy === 'always' || undefined,
    command: script ? ['sh', '-c', text(script)] : plan.command?.map(text),
    entrypoint: script ? undefined : plan.entrypoint?.map((e) => plain(e, 'entrypoint')),
    environment: Object.fromEntries(Object.entries(plan.env).map(([k, v]) => [k, text(v)])),
    mounts: plan.mounts.map(dockerMount(options)),
    // Its own temporary folder is a host bind, which a remote engine does not have.
    mount_tmp_dir: false,
    working_dir: plan.workingDir && plain(plan.workingDir, 'working_dir'),
    user: plan.user,
    mem_limit: r.memoryBytes,
    cpus: r.cpus,
    shm_size: r.shmSizeBytes,
    ulimits:
      r.ulimits.length > 0
        ? r.ulimits.map((u) => call('Ulimit', { name: u.name, soft: u.soft, hard: u.hard }))
        : undefined,
    privileged: plan.security.privileged || undefined,
    cap_add: nonEmpty(plan.security.capAdd),
    // The run's own network is, for one DockerOperator, Docker's default.
    network_mode: mode === 'ctr-run' ? undefined : mode,
    extra_hosts: nonEmpty(
      Object.fromEntries(
        plan.network.extraHosts.map((h) => [
          h.slice(0, h.indexOf(':')),
          h.slice(h.indexOf(':') + 1)
        ])
      )
    ),
    dns: nonEmpty(plan.network.dns),
    port_bindings: nonEmpty(
      Object.fromEntries(
        ports.map((p) => [p.container, p.hostIp ? [p.hostIp, p.hostPort] : p.hostPort || null])
      ) as Record<string, PyValue>
    ),
    labels: nonEmpty(
      Object.fromEntries(
        Object.entries(plan.labels).filter(([k]) => !k.startsWith(LABEL_NAMESPACE))
      )
    ),
    xcom_all: common.do_xcom_push ? false : undefined,
    auto_remove: 'force'
  })
}

/** A mount as docker-py's Mount: the workspace is the named volume `--set workspace` names. */
function dockerMount(options: ExportOptions) {
  return (mount: MountPlan): PyCall => {
    switch (mount.type) {
      case 'workspace':
        return call('Mount', { source: options.workspace, target: CTR_ROOT, type: 'volume' })
      case 'volume':
        return call('Mount', {
          source: mount.source,
          target: plain(mount.target, 'volumes'),
          type: 'volume',
          read_only: mount.readOnly || undefined
        })
      case 'bind': {
        // The DockerOperator's engine has host folders; a map still moves them if given.
        const mapped = mappedPath(mount.source, options.maps)
        const source =
          mapped?.map.to.kind === 'hostPath'
            ? [mapped.map.to.path, mapped.rest].filter(Boolean).join('/')
            : mount.source
        return call('Mount', {
          source: plain(source, 'volumes'),
          target: plain(mount.target, 'volumes'),
          type: 'bind',
          read_only: mount.readOnly || undefined
        })
      }
      case 'tmpfs': {
        const bytes = tmpfsBytes(mount)
        return call('Mount', {
          source: null,
          target: mount.target,
          type: 'tmpfs',
          tmpfs_size: bytes
        })
      }
    }
  }
}
