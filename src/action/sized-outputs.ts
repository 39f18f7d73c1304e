import type { RunResult } from '../scheduler/run-result.js'

/**
 * GitHub keeps at most 1 MB of outputs per job, counted in UTF-16 (two bytes a code
 * unit). The action allows itself 768 KiB of it, leaving the rest to the job's other steps.
 */
export const OUTPUTS_BUDGET_BYTES = 768 * 1024

/** Of which the `outputs` output (job outputs, needed whole) may take at most this. */
export const JOB_OUTPUTS_LIMIT_BYTES = 512 * 1024

/** The size GitHub counts for an output value. */
export function outputBytes(text: string): number {
  return text.length * 2
}

/** The `result` and `outputs` outputs, as JSON that fits GitHub's limit. */
export interface SizedOutputs {
  result: string
  outputs: string
  /** `result` had to leave things out; the whole document is in the `result-file` output. */
  truncated: boolean
  /**
   * The job outputs were too big to set: `outputs` is a pointer to the result file
   * instead, and the step must fail (a reader downstream would find nothing), saying this.
   */
  outputsError?: string
}

/**
 * Fits the result document and the job outputs into the action's share of GitHub's
 * outputs limit. Job outputs too big to set are not cut (a truncated value would be read
 * downstream as if whole): `outputs` becomes `{"too_large": why, "result_file": path}`
 * and `outputsError` says so. The result document is cut down in steps, each marked with
 * `truncated`: first without stages, then with only each instance's id and status, then
 * with only the run's status.
 */
export function sizeOutputs(
  result: RunResult,
  jobOutputs: unknown,
  resultFile: string
): SizedOutputs {
  let outputs = JSON.stringify(jobOutputs)
  let outputsError: string | undefined
  if (outputBytes(outputs) > JOB_OUTPUTS_LIMIT_BYTES) {
    outputsError = `the job outputs take ${kib(outputBytes(outputs))} KiB, more than the ${kib(JOB_OUTPUTS_LIMIT_BYTES)} KiB the action may set (GitHub keeps at most 1 MB of outputs per job): they are in the result file, ${resultFile}; write large values to a file in $CTR_WORKSPACE or an artifact, and output its path`
    outputs = JSON.stringify({ too_large: outputsError, result_file: resultFile })
  }
  const room = OUTPUTS_BUDGET_BYTES - outputBytes(outputs)
  const note = (what: string) =>
    `${what} left out to fit GitHub's 1 MB outputs limit; the whole document is in the result-file output`
  // Each a smaller document than the one before; the last is a few hundred bytes.
  const candidates: Array<() => unknown> = [
    () => result,
    () => ({
      ...result,
      truncated: note('stages'),
      jobs: result.jobs.map((j) => ({ ...j, stages: [] }))
    }),
    () => ({
      ...result,
      truncated: note('everything but each instance status'),
      jobs: result.jobs.map((j) => ({ id: j.id, job: j.job, status: j.status }))
    }),
    () => ({
      run_id: result.run_id,
      pipeline: result.pipeline,
      status: result.status,
      truncated: note('the jobs')
    })
  ]
  const last = candidates.length - 1
  for (const [i, candidate] of candidates.slice(0, last).entries()) {
    const text = JSON.stringify(candidate())
    if (outputBytes(text) <= room) return { result: text, outputs, truncated: i > 0, outputsError }
  }
  return { result: JSON.stringify(candidates[last]()), outputs, truncated: true, outputsError }
}

function kib(bytes: number): number {
  return Math.ceil(bytes / 1024)
}
