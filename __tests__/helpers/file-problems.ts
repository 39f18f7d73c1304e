import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { formatProblem, PipelineFileError } from '../../src/pipeline/file-problems.js'

/** The problems the loader reports for a text, as `FILE:LINE:COL: message`; [] when valid. */
export function problemsOf(text: string, file = 'p.yml'): string[] {
  try {
    parsePipeline(text, file, '/repo')
  } catch (error) {
    if (error instanceof PipelineFileError) return error.problems.map(formatProblem)
    throw error
  }
  return []
}
