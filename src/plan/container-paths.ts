/** The run's workflow volume is mounted here in every job container. */
export const CTR_ROOT = '/ctr'
/** What jobs share: `$CTR_WORKSPACE`. */
export const WORKSPACE_DIR = `${CTR_ROOT}/workspace`
/** Holds each job instance's `$CTR_JOB_DIR`. */
export const JOBS_DIR = `${WORKSPACE_DIR}/jobs`
/** Per job instance, the files through which stages hand back outputs. */
export const STATE_DIR = `${CTR_ROOT}/state`

/** Name of the run's workflow volume. */
export function workflowVolumeName(runId: string): string {
  return `ctr-pipeline-${runId}`
}

/**
 * The engine's name for a top-level named volume: its `name:`, else the key for an
 * external volume (it exists already under that name), else one unique to the run.
 */
export function namedVolumeName(
  key: string,
  spec: { name?: string; external: boolean },
  runId: string
): string {
  return spec.name ?? (spec.external ? key : `ctr-pipeline-${runId}-${key}`)
}

/** Engine names of all of a pipeline's named volumes, by key. */
export function namedVolumeNames(
  volumes: Record<string, { name?: string; external: boolean }>,
  runId: string
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(volumes).map(([key, spec]) => [key, namedVolumeName(key, spec, runId)])
  )
}

/** Where one job's stages write their `$CTR_OUTPUT` files. */
export function jobStateDir(slug: string): string {
  return `${STATE_DIR}/${slug}`
}

/**
 * `$CTR_JOB_DIR`: the instance's own folder in the workspace, so that matrix instances
 * running side by side never write over each other's files.
 */
export function jobWorkDir(slug: string): string {
  return `${JOBS_DIR}/${slug}`
}

/** The run's user-defined network: jobs reach each other on it by their instance name. */
export function runNetworkName(runId: string): string {
  return `ctr-pipeline-${runId}`
}

/** A job instance's own network, where its services answer to their keys. */
export function servicesNetworkName(runId: string, slug: string): string {
  return `ctr-pipeline-${runId}-${slug}`
}
