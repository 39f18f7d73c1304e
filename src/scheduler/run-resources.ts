import type { PlannedInstance, PlannedJob } from '../plan/pipeline-plan.js'
import type { PipelinePlan } from '../plan/pipeline-plan.js'
import {
  CTR_ROOT,
  instanceDirs,
  JOBS_DIR,
  STATE_DIR,
  WORKSPACE_DIR
} from '../plan/container-paths.js'
import { runLabels } from '../plan/labels.js'
import type { Backend, RunSetup } from '../backend/backend.js'

/**
 * The run's volumes and network, all labelled with the run id: the workflow volume, and
 * the named volumes of the file (an `external` one must exist already and is left as it is).
 */
export function runSetup(
  plan: PipelinePlan,
  runId: string,
  names: { workflowVolume: string; namedVolumes: Record<string, string>; runNetwork: string }
): RunSetup {
  const labels = runLabels(runId)
  return {
    runId,
    volumes: [
      { key: 'workspace', name: names.workflowVolume, labels, external: false },
      ...Object.entries(plan.pipeline.volumes).map(([key, spec]) => ({
        key,
        name: names.namedVolumes[key],
        labels: { ...spec.labels, ...labels },
        external: spec.external,
        ...(spec.driver ? { driver: spec.driver } : {}),
        ...(spec.driver_opts ? { driverOptions: spec.driver_opts } : {})
      }))
    ],
    network: { name: names.runNetwork, labels }
  }
}

/** At most this many folders are made in the run's first upload (about 512 B of tar each). */
const UPFRONT_DIRS_LIMIT = 2048

/**
 * Makes the workflow volume's folders through the first container that asks, in one
 * upload: the run's shared folders and those of every instance, as long as they number at
 * most UPFRONT_DIRS_LIMIT (the engine's archive upload fails when two containers create
 * one folder at the same moment, and each upload costs it tens of milliseconds). Instances
 * beyond that make their own folders through their own container.
 */
export function volumePreparer(
  backend: Backend,
  jobs: readonly PlannedJob[]
): (containerId: string, instance: PlannedInstance) => Promise<void> {
  const upfront = new Set<string>()
  const dirs = [WORKSPACE_DIR, JOBS_DIR, STATE_DIR]
  for (const instance of jobs.flatMap((job) => job.instances)) {
    const own = instanceDirs(instance)
    if (dirs.length + own.length > UPFRONT_DIRS_LIMIT) break
    dirs.push(...own)
    upfront.add(instance.id)
  }
  let volumeReady: Promise<void> | undefined
  return async (containerId, instance) => {
    volumeReady ??= backend.makeDirectories(containerId, CTR_ROOT, dirs).catch((error: unknown) => {
      // The next instance tries again (this one's container may have been killed).
      volumeReady = undefined
      throw error
    })
    await volumeReady
    if (!upfront.has(instance.id)) {
      await backend.makeDirectories(containerId, CTR_ROOT, instanceDirs(instance))
    }
  }
}
