/** The run's workflow volume is mounted here in every job container. */
export const CTR_ROOT = '/ctr'
/** What jobs share: `$CTR_WORKSPACE`. */
export const WORKSPACE_DIR = `${CTR_ROOT}/workspace`
/** Per job instance, the files through which stages hand back outputs. */
export const STATE_DIR = `${CTR_ROOT}/state`

/** Name of the run's workflow volume. */
export function workflowVolumeName(runId: string): string {
  return `ctr-pipeline-${runId}`
}

/** Where one job's stages write their `$CTR_OUTPUT` files. */
export function jobStateDir(jobId: string): string {
  return `${STATE_DIR}/${jobId}`
}
