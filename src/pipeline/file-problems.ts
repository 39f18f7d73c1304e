/** A position in a pipeline file, 1-based as editors show it. */
export interface SourcePosition {
  file: string
  line: number
  col: number
}

/** One problem found in a pipeline file, located at the offending key or value. */
export interface FileProblem extends SourcePosition {
  message: string
}

/** Formats a problem as `FILE:LINE:COL: message`, the form editors and CI logs link. */
export function formatProblem(p: FileProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`
}

/** Raised when a pipeline file (or a value given for it) is invalid; carries every problem found. */
export class PipelineFileError extends Error {
  constructor(readonly problems: FileProblem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.name = 'PipelineFileError'
  }
}

/** Problems in the order they appear in the file, as an editor lists them. */
export function inFileOrder(problems: readonly FileProblem[]): FileProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col)
}
