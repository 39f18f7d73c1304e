import type { JobSpec } from './pipeline-types.js'

/** The output a job whose build is pushed has besides its own: the digest, `sha256:…`. */
export const PUSHED_DIGEST_OUTPUT = 'image_digest'

/** The outputs a job has without declaring them under `outputs:`. */
export function implicitOutputs(job: JobSpec): string[] {
  return job.container.build?.push ? [PUSHED_DIGEST_OUTPUT] : []
}
