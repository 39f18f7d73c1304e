import { existsSync } from 'node:fs'
import path from 'node:path'
import { InputError } from '../pipeline/input-error.js'

/** The names `run`, `validate` and `plan` look for when given no file, in this order. */
export const DEFAULT_FILES = [
  'ctr-pipeline.yml',
  'ctr-pipeline.yaml',
  'pipeline.yml',
  'pipeline.yaml'
] as const

/**
 * The pipeline file a command works on: the one given, else the first of DEFAULT_FILES in
 * `dir` (as `make` finds its Makefile). None there is a usage error naming what was
 * looked for and where.
 */
export function pipelineFileArg(
  given: string | undefined,
  dir: string,
  exists: (file: string) => boolean = existsSync
): string {
  if (given !== undefined) return given
  const found = DEFAULT_FILES.find((name) => exists(path.join(dir, name)))
  if (found) return found
  throw new InputError(
    `no pipeline file given, and none of ${DEFAULT_FILES.join(', ')} in ${dir}: name one (ctr-pipeline run FILE)`
  )
}
