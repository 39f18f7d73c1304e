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

/** The job's own state: a folder per stage, out of the workspace. */
export function jobStateDir(slug: string): string {
  return `${STATE_DIR}/${slug}`
}

/**
 * Where one stage writes `$CTR_OUTPUT` (`output`) and `$CTR_ANNOTATIONS`
 * (`annotations`): one folder, so both are read back in one call.
 */
export function stageStateDir(slug: string, index: number): string {
  return `${jobStateDir(slug)}/stage-${index + 1}`
}

/** The folders an instance's container needs in the workflow volume before it starts. */
export function instanceDirs(instance: {
  slug: string
  job: { stages?: readonly unknown[] }
}): string[] {
  const { slug, job } = instance
  if (!job.stages) return [jobWorkDir(slug)]
  return [jobWorkDir(slug), jobStateDir(slug), ...job.stages.map((_, i) => stageStateDir(slug, i))]
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
