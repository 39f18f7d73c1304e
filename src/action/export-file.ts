import * as core from '@actions/core'
import path from 'node:path'
import { exportOptions } from '../app/export-options.js'
import { preparePlan } from '../app/prepare-plan.js'
import { exportPipeline, type ExportTarget } from '../export/export-pipeline.js'
import { InputError } from '../pipeline/input-error.js'
import { loadPipelineFile } from '../pipeline/load-pipeline.js'
import { writeFileReplacing } from '../scheduler/host-files.js'
import { getExportSettings } from './input-helper.js'

const EXTENSIONS: Record<ExportTarget, string> = {
  argo: 'yaml',
  k8s: 'yaml',
  airflow: 'py',
  batch: 'json',
  github: 'yml'
}

/**
 * `actions/export`: `ctr-pipeline export` as a step. Writes the export to the `output`
 * input (relative to the workspace) or a file in RUNNER_TEMP, and sets `file` to it; what
 * the target cannot be given fails the step with annotations at the file's lines.
 */
export async function exportFile(): Promise<void> {
  const settings = getExportSettings()
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
  const file = path.resolve(workspace, settings.file)
  const pipeline = await loadPipelineFile(
    path.relative(process.cwd(), file) || file,
    settings.workflow
  )
  const { params, plan } = preparePlan(pipeline, settings.params)
  const text = exportPipeline(settings.to, plan, params, exportOptions(settings.flags, pipeline))
  const output = settings.output
    ? path.resolve(workspace, settings.output)
    : path.join(
        process.env.RUNNER_TEMP ?? workspace,
        `ctr-pipeline-export.${EXTENSIONS[settings.to]}`
      )
  try {
    await writeFileReplacing(output, text)
  } catch (error) {
    throw new InputError(`input 'output': cannot write ${output}: ${(error as Error).message}`)
  }
  core.info(`exported ${settings.file} to ${settings.to}: ${output}`)
  core.setOutput('file', output)
}
