import { exportOptions } from '../../src/app/export-options.js'
import { preparePlan } from '../../src/app/prepare-plan.js'
import type { PipelinePlan } from '../../src/plan/pipeline-plan.js'
import { exportPipeline, type ExportTarget } from '../../src/export/export-pipeline.js'
import { loadPipelineFile, parsePipeline } from '../../src/pipeline/load-pipeline.js'
import type { Pipeline } from '../../src/pipeline/pipeline-types.js'
import { formatProblem, PipelineFileError } from '../../src/pipeline/file-problems.js'

/** `export`'s flags besides the target and the file. */
export interface ExportFlags {
  set?: string[]
  map?: string[]
  drop?: string[]
  template?: boolean
  param?: Record<string, string>
}

function exported(target: ExportTarget, pipeline: Pipeline, flags: ExportFlags) {
  const { params, plan } = preparePlan(pipeline, flags.param ?? {})
  const options = exportOptions(
    {
      set: flags.set ?? [],
      map: flags.map ?? [],
      drop: flags.drop ?? [],
      template: flags.template
    },
    pipeline
  )
  return { text: exportPipeline(target, plan, params, options), plan }
}

/** A pipeline file's export, with the plan it was made from. */
export async function exportFile(
  target: ExportTarget,
  file: string,
  flags: ExportFlags = {}
): Promise<{ text: string; plan: PipelinePlan }> {
  return exported(target, await loadPipelineFile(file), flags)
}

/**
 * The export of a pipeline text (as `p.yml` in `/repo`), or its problems as
 * `FILE:LINE:COL: message` (any other error's message).
 */
export function exportOrProblems(
  target: ExportTarget,
  text: string,
  flags: ExportFlags = {}
): { text: string } | { problems: string[] } {
  try {
    return { text: exported(target, parsePipeline(text, 'p.yml', '/repo'), flags).text }
  } catch (error) {
    if (error instanceof PipelineFileError) return { problems: error.problems.map(formatProblem) }
    return { problems: [(error as Error).message] }
  }
}
