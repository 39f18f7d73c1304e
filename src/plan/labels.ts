/** The start of every label of ctr-pipeline's own; a file's `labels` cannot set one. */
export const LABEL_NAMESPACE = 'ctr-pipeline.'
/** Every container, volume and network ctr-pipeline creates carries these labels. */
export const LABEL_MANAGED = 'ctr-pipeline.managed'
export const LABEL_RUN_ID = 'ctr-pipeline.run-id'
export const LABEL_JOB = 'ctr-pipeline.job'

/** The labels that mark a resource as belonging to one run, for cleanup by label. */
export function runLabels(runId: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_RUN_ID]: runId }
}
/** The job instance (`report-2`) a container runs, as in its name and state folder. */
export const LABEL_INSTANCE = 'ctr-pipeline.instance'
/** On a service container: its key under the job's `services:`. */
export const LABEL_SERVICE = 'ctr-pipeline.service'
