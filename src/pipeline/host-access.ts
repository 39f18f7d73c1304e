import path from 'node:path'
import type { HostAccess, HostAccessKind, JobSpec, NamedVolumeSpec } from './pipeline-types.js'

export type { HostAccess, HostAccessKind } from './pipeline-types.js'
import { isRecord } from './raw-values.js'
import type { FileProblem } from './file-problems.js'
import type { HostEffectId } from './threat-model.js'
import type { VariableUse } from './variables.js'
import { describePath, type DocPath, type YamlSource } from './yaml-source.js'

/** The `ulimits` an untrusted container may set: they only bound what its processes hold. */
export const UNTRUSTED_ULIMITS: readonly string[] = ['nofile', 'nproc']

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
    if (spec.build) {
      add('image_build', [...at, 'build'], 'build: builds an image on the engine')
      if (spec.build.push)
        add('image_push', [...at, 'build', 'push'], 'build.push: pushes an image to a registry')
    }
    const auths = [
      ...(spec.auth ? [[...at, 'auth']] : []),
      ...Object.entries(job.services).flatMap(([key, service]) =>
        service.auth ? [['jobs', job.id, 'services', key, 'auth']] : []
      )
    ]
    for (const where of auths)
      add('registry_auth', where, 'auth: hands registry credentials to the engine')
    for (const name of Object.keys(spec.ulimits))
      if (!UNTRUSTED_ULIMITS.includes(name))
        add('ulimit', [...at, 'ulimits', name], `ulimits.${name} changes a limit of the kernel's`)
    if (spec.privileged)
      add('privileged', [...at, 'privileged'], 'privileged: true gives the job the whole host')
    if (spec.keep)
      add(
        'kept_container',
        [...at, 'remove'],
        "remove: false leaves its container and the run's volumes on the engine after the run"
      )
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
  /** Untrusted: the names `${VAR}` may read (`--allow-var`, `untrusted-variables`). */
  allowedVariables?: readonly string[]
}

/**
 * The row of the threat model (docs/security.md) each kind of host access belongs to:
 * untrusted mode refuses every kind but host paths inside the workspace, `${VAR}`s
 * allowed by name, and `allow_workflow_commands` (ignored, see untrustedWarnings).
 */
export const EFFECT_OF: Record<HostAccessKind, HostEffectId> = {
  privileged: 'container_privileges',
  cap_add: 'container_privileges',
  ulimit: 'container_privileges',
  host_network: 'host_network',
  docker_socket: 'bind_mount',
  host_root: 'bind_mount',
  host_path: 'bind_mount',
  shared_volume: 'engine_objects',
  volume_driver: 'engine_objects',
  image_build: 'image_build',
  image_push: 'image_push',
  registry_auth: 'registry_auth',
  variable: 'environment_variable',
  kept_container: 'engine_objects',
  workflow_commands: 'workflow_commands'
}

/** What to write instead, where untrusted mode refuses a key that has a way around. */
const INSTEAD: Partial<Record<HostAccessKind, string>> = {
  image_build:
    'build the image in a trusted workflow (on push) and name it in image:, since a build has no process or memory limit',
  image_push: 'push from a trusted workflow',
  kept_container:
    'an untrusted run leaves nothing on the engine; keep a run to look into from a trusted one (run --keep)',
  registry_auth:
    'pull private images in a trusted step before the run (docker pull) and keep pull: missing'
}

/**
 * The host access a run must refuse before it starts. Always: the Docker socket and `/`
 * unless the job says `allow_host_access: true`. Untrusted (a fork's pull request): every
 * kind the threat model refuses (privileged mode, `cap_add`, host networking, the socket
 * and `/` whatever the job says, builds, pushes, `auth:`, kernel `ulimits`, volumes the
 * run does not own), host paths outside the workspace, and `${VAR}`s not allowed by name.
 * `allow_workflow_commands` is not a problem: untrustedWarnings says it is ignored.
 */
export function trustProblems(
  access: readonly HostAccess[],
  jobs: readonly JobSpec[],
  mode: TrustMode
): FileProblem[] {
  const allowed = new Set(jobs.filter((j) => j.allow_host_access).map((j) => j.id))
  const variables = new Set(mode.allowedVariables ?? [])
  const problems: FileProblem[] = []
  for (const a of access) {
    const { kind } = a
    const problem = (why: string) =>
      problems.push({ file: a.file, line: a.line, col: a.col, message: `${a.message}; ${why}` })
    if (mode.untrusted) {
      if (kind === 'host_path') {
        if (a.hostPath!.includes('{{') || !isInside(a.hostPath!, mode.workspace))
          problem(
            `refused for an untrusted pipeline: only paths inside ${mode.workspace} may be mounted`
          )
      } else if (kind === 'variable') {
        if (!variables.has(a.variable!))
          problem(
            `refused for an untrusted pipeline: allow it by name (--allow-var ${a.variable}, or the action's untrusted-variables input) if the workflow means to pass it`
          )
      } else if (kind !== 'workflow_commands') {
        const instead = INSTEAD[kind]
        problem(
          `refused for an untrusted pipeline (pull request from a fork)${instead ? `: ${instead}` : ''}`
        )
      }
    } else if ((kind === 'docker_socket' || kind === 'host_root') && !allowed.has(a.job)) {
      problem('set allow_host_access: true on the job to allow it')
    }
  }
  return problems
}

/** What an untrusted run ignores of the file, each at its line, as warnings. */
export function untrustedWarnings(access: readonly HostAccess[]): FileProblem[] {
  return access
    .filter((a) => a.kind === 'workflow_commands')
    .map((a) => ({
      file: a.file,
      line: a.line,
      col: a.col,
      message: `${a.message}; ignored for an untrusted pipeline: only the workflow can allow workflow commands (the action's allow-workflow-commands input)`
    }))
}

/**
 * Where the file reads the run's environment (`${VAR}`) and turns on workflow commands:
 * host access that depends on the trust mode, at its line.
 */
export function fileAccess(
  uses: readonly VariableUse[],
  raw: unknown,
  source: YamlSource
): HostAccess[] {
  const found: HostAccess[] = uses.map((use) => ({
    ...source.valuePosition(use.at),
    kind: 'variable',
    job: typeof use.at[1] === 'string' ? use.at[1] : '',
    message: `${describePath(use.at)}: \${${use.name}} reads the run's environment`,
    variable: use.name
  }))
  if (isRecord(raw) && raw.allow_workflow_commands === true)
    found.push({
      ...source.valuePosition(['allow_workflow_commands']),
      kind: 'workflow_commands',
      job: '',
      message: 'allow_workflow_commands: true'
    })
  return found
}

/** Whether a path lies inside a folder (or is it): both absolute, taken as written. */
export function isInside(target: string, folder: string): boolean {
  const relative = path.relative(folder, target)
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  )
}
