import * as core from '@actions/core'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import picomatch from 'picomatch'
import { checkPlan, preparePlan } from '../app/prepare-plan.js'
import { InputError } from '../pipeline/input-error.js'
import { loadAllWorkflows, loadPipelineFile } from '../pipeline/load-pipeline.js'
import { PipelineFileError } from '../pipeline/file-problems.js'
import { getValidateSettings } from './input-helper.js'

/** Folders never searched for pipeline files. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules'])

/**
 * `actions/validate`: checks each pipeline file of the `files` input (paths or globs,
 * relative to the workspace), every problem an error annotation at its line; sets
 * `valid` and fails the step when a file is invalid.
 */
export async function validateFiles(annotate: (error: PipelineFileError) => void): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
  const settings = getValidateSettings()
  const files = await expandFiles(settings.files, workspace)
  let invalid = 0
  for (const file of files) {
    try {
      const relative = path.relative(process.cwd(), path.resolve(workspace, file))
      for (const pipeline of await loadAllWorkflows(relative, settings.workflow)) {
        checkPlan(pipeline)
        for (const warning of pipeline.warnings)
          core.warning(warning.message, {
            file: warning.file,
            startLine: warning.line,
            startColumn: warning.col
          })
      }
      core.info(`${file}: valid`)
      // The plan job of a fan-out (export --to github) reads each job's instances here.
      if (files.length === 1) {
        const pipeline = await loadPipelineFile(relative, settings.workflow)
        const { plan } = preparePlan(pipeline, settings.params)
        core.setOutput(
          'instances',
          JSON.stringify(
            Object.fromEntries(plan.jobs.map((j) => [j.id, j.instances.map((i) => i.slug)]))
          )
        )
      }
    } catch (error) {
      if (!(error instanceof PipelineFileError)) throw error
      invalid += 1
      core.info(error.message)
      annotate(error)
    }
  }
  core.setOutput('valid', String(invalid === 0))
  if (invalid > 0) core.setFailed(`${invalid} of ${files.length} pipeline files are invalid`)
}

/** Paths as given; globs matched against the files under the workspace. */
async function expandFiles(patterns: string[], workspace: string): Promise<string[]> {
  if (patterns.length === 0)
    throw new InputError(`input 'files' is empty: give pipeline files or globs`)
  const files: string[] = []
  let all: string[] | undefined
  for (const pattern of patterns) {
    if (!picomatch.scan(pattern).isGlob) {
      files.push(pattern)
      continue
    }
    all ??= await walk(workspace, '')
    const isMatch = picomatch(pattern, { dot: true })
    const matched = all.filter((file) => isMatch(file))
    if (matched.length === 0) throw new InputError(`input 'files': '${pattern}' matches no file`)
    files.push(...matched)
  }
  return [...new Set(files)]
}

async function walk(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true })
  const found: string[] = []
  for (const entry of entries) {
    const relative = dir ? `${dir}/${entry.name}` : entry.name
    if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name))
      found.push(...(await walk(root, relative)))
    else if (entry.isFile()) found.push(relative)
  }
  return found
}
