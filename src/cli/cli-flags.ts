import { InvalidArgumentError, Option } from 'commander'
import path from 'node:path'
import type { LoadOptions } from '../pipeline/load-pipeline.js'
import { access, constants, lstat, stat } from 'node:fs/promises'
import { writeFileReplacing } from '../scheduler/host-files.js'
import { parseMaxParallel } from '../app/run-session.js'
import { InputError } from '../pipeline/input-error.js'
import { ENGINE_HOST_FORM, parseEngineHost } from '../app/backends.js'
import { DEFAULT_FILES } from './default-file.js'

//  What the CLI's commands share: flag parsers and checks, in the CLI's own words.

export const collect = (value: string, previous: string[]) => [...previous, value]

/**
 * Opens for writing a file the run writes at its end, before the run: a path that cannot
 * be written is a usage error now, not after the whole run. A file made only for the
 * check is removed again, so a run that stops early leaves no empty result behind.
 */
export async function checkWritable(
  file: string,
  flag: string,
  what = 'the result'
): Promise<void> {
  // Asked of the folder, not by opening the file: opening would follow a symlink there.
  try {
    const dir = path.dirname(path.resolve(file))
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' })
    await access(dir, constants.W_OK)
    const existing = await lstat(file).catch(() => undefined)
    if (existing?.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' })
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException
    const why: Record<string, string> = {
      ENOENT: 'its folder does not exist',
      EACCES: 'permission denied',
      EISDIR: 'it is a folder',
      EROFS: 'the file system is read-only',
      ENOTDIR: 'a part of its path is not a folder'
    }
    throw new InputError(
      `${flag} ${file}: cannot write ${what} there (${(code && why[code]) ?? (error as Error).message})`
    )
  }
}

/** Writes a command's output file; one that cannot be written is a usage error naming it. */
export async function writeOutput(file: string, text: string): Promise<void> {
  try {
    await writeFileReplacing(file, text)
  } catch (error) {
    throw new InputError(`--output ${file}: ${(error as Error).message}`)
  }
}

/** Splits repeated `--param K=V` flags into a map; a flag without `=` is a usage error. */
export function parseParamFlags(flags: string[]): Record<string, string> {
  const params: Record<string, string> = {}
  for (const flag of flags) {
    const equals = flag.indexOf('=')
    if (equals <= 0) throw new InputError(`--param '${flag}': expected KEY=VALUE`)
    params[flag.slice(0, equals)] = flag.slice(equals + 1)
  }
  return params
}

/** `--max-parallel`: a whole number of at least 1. */
export function maxParallelFlag(value: string): number {
  const n = parseMaxParallel(value)
  if (n === undefined) throw new InvalidArgumentError('expected a whole number of at least 1')
  return n
}

/** `--swarm-host`, of `run` and `cleanup`. */
export function swarmHostOption(): Option {
  return new Option(
    '--swarm-host <url>',
    "swarm: the manager's Engine API (unix://, tcp://, ssh://; default: DOCKER_HOST)"
  ).argParser((value: string) => formFlag(parseEngineHost, value, ENGINE_HOST_FORM))
}

/** A flag whose value must have a form: `parse` gives it, or undefined when it has not. */
export function formFlag<T>(
  parse: (text: string) => T | undefined,
  value: string,
  form: string
): T {
  const parsed = parse(value)
  if (parsed === undefined) throw new InvalidArgumentError(`expected ${form}`)
  return parsed
}

/** `run` and `plan`'s file argument. */
export const FILE_ARGUMENT = `pipeline file (YAML; default: the first of ${DEFAULT_FILES.join(', ')})`

/**
 * `--workflow NAME`: which workflow of a file in ddeutil-workflow's keyed layout (several
 * `NAME: {type: Workflow, ...}` in one file) the command works on.
 */
export function workflowOption(): Option {
  return new Option(
    '--workflow <name>',
    'the workflow to use, in a file holding several (NAME: {type: Workflow, ...})'
  )
}

/** `--default-image IMAGE`: the container of jobs without `runs-on` (ddeutil's local ones). */
export function defaultImageOption(): Option {
  return new Option(
    '--default-image <image>',
    "run jobs that have no runs-on (or ddeutil-workflow's type: local) in this image"
  )
}

/** What the loader takes from `--workflow` and `--default-image`. */
export function loadOptions(opts: { workflow?: string; defaultImage?: string }): LoadOptions {
  return { workflow: opts.workflow, defaultImage: opts.defaultImage }
}
