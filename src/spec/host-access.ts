import path from 'node:path'
import type { HostAccess, HostAccessKind, JobSpec, NamedVolumeSpec } from './pipeline-types.js'

export type { HostAccess, HostAccessKind } from './pipeline-types.js'
import type { SpecProblem } from './spec-error.js'
import type { DocPath, YamlSource } from './yaml-source.js'

/** The Docker socket, where engines listen: whoever holds it controls the engine. */
const DOCKER_SOCKETS = new Set(['/var/run/docker.sock', '/run/docker.sock'])

/**
 * Every place a job reaches the host: privileged mode, added capabilities, host
 * networking, and host paths it mounts (the Docker socket and `/` named as such). What is
 * allowed depends on the mode a run is in (see `trustProblems`); `message` says what the
 * access gives away.
 */
export function findHostAccess(
  jobs: readonly JobSpec[],
  dir: string,
  volumes: Readonly<Record<string, NamedVolumeSpec>>,
  source: YamlSource
): HostAccess[] {
  const found: HostAccess[] = []
  for (const [key, volume] of Object.entries(volumes)) {
    const add = (kind: HostAccessKind, field: string, message: string) =>
      found.push({
        ...source.valuePosition(['volumes', key, field]),
        kind,
        job: '',
        message: `volumes.${key}: ${message}`
      })
    if (volume.external)
      add('shared_volume', 'external', 'an external volume is shared with whoever else uses it')
    else if (volume.name !== undefined)
      add(
        'shared_volume',
        'name',
        `the engine's volume '${volume.name}' is shared with whoever else uses it`
      )
    if (volume.driver !== undefined)
      add('volume_driver', 'driver', `driver '${volume.driver}' decides what the volume is`)
    else if (Object.keys(volume.driver_opts).length > 0)
      add('volume_driver', 'driver_opts', 'driver_opts can bind a host folder (o: bind)')
  }
  const namedVolumes = new Set(Object.keys(volumes))
  for (const job of jobs) {
    const at: DocPath = ['jobs', job.id, 'runs-on', 'with']
    const add = (kind: HostAccessKind, where: DocPath, message: string, hostPath?: string) =>
      found.push({
        ...source.valuePosition(where),
        kind,
        job: job.id,
        message: `jobs.${job.id}: ${message}`,
        ...(hostPath ? { hostPath } : {})
      })
    const spec = job.container
    if (spec.privileged)
      add('privileged', [...at, 'privileged'], 'privileged: true gives the job the whole host')
    if (spec.cap_add.length > 0)
      add(
        'cap_add',
        [...at, 'cap_add'],
        `cap_add (${spec.cap_add.join(', ')}) widens what the job may do to the kernel`
      )
    if (spec.network.network_mode === 'host')
      add(
        'host_network',
        [...at, 'network', 'network_mode'],
        "network_mode: host puts the job on the host's network"
      )
    const mounts = [
      ...spec.volumes.map((volume, i) => ({ volume, where: [...at, 'volumes', i, 'source'] })),
      ...Object.entries(job.services).flatMap(([key, service]) =>
        service.volumes.map((volume, i) => ({
          volume,
          where: ['jobs', job.id, 'services', key, 'volumes', i, 'source']
        }))
      )
    ]
    mounts.forEach(({ volume, where }) => {
      if (namedVolumes.has(volume.source)) return
      const hostPath = path.resolve(dir, volume.source)
      if (DOCKER_SOCKETS.has(hostPath))
        add(
          'docker_socket',
          where,
          `mounting ${hostPath} gives the job control of the Docker engine, and so of the host`,
          hostPath
        )
      else if (hostPath === '/')
        add('host_root', where, "mounting / gives the job the host's whole filesystem", hostPath)
      else add('host_path', where, `mounts the host path ${hostPath}`, hostPath)
    })
  }
  return found
}

/** How a run treats the pipeline file: untrusted for pull requests from forks. */
export interface TrustMode {
  untrusted: boolean
  /** Untrusted: the one host folder (the checkout) that jobs may mount from. */
  workspace: string
}

/**
 * The host access a run must refuse before it starts. Always: the Docker socket and `/`
 * unless the job says `allow_host_access: true`. Untrusted (a fork's pull request): also
 * privileged mode, `cap_add`, host networking, the Docker socket and `/` whatever the
 * job says, and host paths outside the workspace.
 */
export function trustProblems(
  access: readonly HostAccess[],
  jobs: readonly JobSpec[],
  mode: TrustMode
): SpecProblem[] {
  const allowed = new Set(jobs.filter((j) => j.allow_host_access).map((j) => j.id))
  const problems: SpecProblem[] = []
  for (const a of access) {
    const { kind } = a
    const problem = (why: string) =>
      problems.push({ file: a.file, line: a.line, col: a.col, message: `${a.message}; ${why}` })
    if (mode.untrusted) {
      if (kind !== 'host_path') {
        problem('refused for an untrusted pipeline (pull request from a fork)')
      } else if (a.hostPath!.includes('{{') || !isInside(a.hostPath!, mode.workspace)) {
        problem(
          `refused for an untrusted pipeline: only paths inside ${mode.workspace} may be mounted`
        )
      }
    } else if ((kind === 'docker_socket' || kind === 'host_root') && !allowed.has(a.job)) {
      problem('set allow_host_access: true on the job to allow it')
    }
  }
  return problems
}

/** Whether a path lies inside a folder (or is it): both absolute, taken as written. */
export function isInside(target: string, folder: string): boolean {
  const relative = path.relative(folder, target)
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  )
}
