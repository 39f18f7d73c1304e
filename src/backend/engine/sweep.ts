import type Docker from 'dockerode'
import { BUILT_IMAGE_REPO } from '../../plan/image-plan.js'
import { LABEL_MANAGED, LABEL_RUN_ID } from '../../plan/labels.js'
import type { RemovedCounts } from '../backend.js'
import { ignoreMissing, statusOf, type CallOptions, type EngineCall } from './connection.js'

/** How long a volume or network may stay in use by containers that are being removed. */
const IN_USE_TIMEOUT_MS = 5000

/**
 * Images a run builds are tagged `ctr-pipeline-build/<job>:<run id>-<hash>` rather than
 * labelled: a label would be baked into a layer of the build cache, and outlive the run.
 */
const BUILT_IMAGES = JSON.stringify({ reference: [`${BUILT_IMAGE_REPO}/*`] })

/** Whether an image tag is one a run built (that run's, when a run id is given). */
export function isBuiltTag(tag: string, runId?: string): boolean {
  const version = tag.slice(tag.lastIndexOf(':') + 1)
  return tag.startsWith(`${BUILT_IMAGE_REPO}/`) && (!runId || version.startsWith(`${runId}-`))
}

/**
 * Removes a volume or network that containers may still hold for a moment: the engine
 * answers a removal before it has let go of a removed container's mounts and endpoints.
 * `inUse` is the status the engine gives while it is held; one already gone is removed.
 */
export async function removeInUse(
  call: EngineCall,
  what: string,
  remove: (o: CallOptions) => Promise<unknown>,
  inUse: number
): Promise<void> {
  const deadline = Date.now() + IN_USE_TIMEOUT_MS
  for (;;) {
    try {
      await call(what, remove)
      return
    } catch (error) {
      if (statusOf(error) === 404) return
      if (statusOf(error) !== inUse || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/**
 * Lists what carries a run's label (with no run id, every run's): what `sweepEngine`
 * removes and what `kept` names.
 */
export function runResources(docker: Docker, call: EngineCall, runId?: string) {
  const label = runId ? `${LABEL_RUN_ID}=${runId}` : `${LABEL_MANAGED}=true`
  const filters = JSON.stringify({ label: [label] })
  return {
    containers: () =>
      call('list containers', (o) => docker.listContainers({ all: true, filters, ...o })),
    volumes: async () =>
      (await call('list volumes', (o) => docker.listVolumes({ filters, ...o }))).Volumes ?? [],
    networks: () => call('list networks', (o) => docker.listNetworks({ filters, ...o }))
  }
}

/**
 * Force-removes every container labelled with the run id, then its volumes, networks and
 * the tags of the images it built; with no run id, everything ctr-pipeline manages on
 * this engine. A built image loses its tag, but its layers stay: they are the build cache
 * of the next run. Containers go first: a volume or network cannot go while one holds it.
 */
export async function sweepEngine(
  docker: Docker,
  call: EngineCall,
  removeContainer: (id: string) => Promise<void>,
  runId?: string
): Promise<RemovedCounts> {
  const listed = runResources(docker, call, runId)
  const containers = await listed.containers()
  await Promise.all(containers.map((c) => removeContainer(c.Id)))
  // Once the containers are gone, volumes, networks and images do not depend on each
  // other: removing a network alone takes the engine about 200 ms.
  const [volumes, networks, images] = await Promise.all([
    removeEach(
      await listed.volumes(),
      // 409: a volume still in use.
      (v) => removeInUse(call, 'remove volume', (o) => docker.getVolume(v.Name).remove(o), 409)
    ),
    removeEach(
      await listed.networks(),
      // 403: a network with endpoints still attached.
      (n) => removeInUse(call, 'remove network', (o) => docker.getNetwork(n.Id).remove(o), 403)
    ),
    removeBuiltTags(docker, call, runId)
  ])
  return { containers: containers.length, volumes, networks, images }
}

/**
 * Takes the tags of the images a run built (every run's, with no run id) off the engine;
 * resolves to how many there were. The layers stay: they are the next run's build cache.
 */
export async function removeBuiltTags(
  docker: Docker,
  call: EngineCall,
  runId?: string
): Promise<number> {
  return removeEach(
    (await call('list images', (o) => docker.listImages({ filters: BUILT_IMAGES, ...o })))
      .flatMap((i) => i.RepoTags ?? [])
      .filter((tag) => isBuiltTag(tag, runId)),
    (tag) => removeTag(docker, call, tag)
  )
}

/** Takes one name off an image (gone already is fine); its layers stay. */
export async function removeTag(docker: Docker, call: EngineCall, tag: string): Promise<void> {
  await ignoreMissing(
    call('remove image', (o) => docker.getImage(tag).remove({ noprune: true, ...o }))
  )
}

/** Removes every item at once; resolves to how many there were. */
async function removeEach<T>(items: T[], remove: (item: T) => Promise<unknown>): Promise<number> {
  await Promise.all(items.map(remove))
  return items.length
}
