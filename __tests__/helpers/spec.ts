import { parsePipeline } from '../../src/spec/load-pipeline.js'
import { formatProblem, SpecError } from '../../src/spec/spec-error.js'

/** The problems the loader reports for a text, as `FILE:LINE:COL: message`; [] when valid. */
export function problemsOf(text: string, file = 'p.yml'): string[] {
  try {
    parsePipeline(text, file, '/repo')
  } catch (error) {
    if (error instanceof SpecError) return error.problems.map(formatProblem)
    throw error
  }
  return []
}
