import path from 'node:path'
import { linkInWorkspace } from '../scheduler/host-files.js'
import { InputError } from '../pipeline/input-error.js'

/** A host path a run writes to, and the flag or input that named it. */
export interface OutputPath {
  path: string
  /** `--result`, or `input 'artifacts-dir'`: what the message names. */
  flag: string
}

/**
 * Untrusted mode's check, before anything runs, of every path the run will write to on
 * the host: none may pass through a symlink inside the workspace, where the checkout (the
 * fork) could have put it. Throws InputError (exit 2) naming the flag and the link.
 */
export async function refuseLinkedOutputs(
  outputs: readonly OutputPath[],
  workspace: string
): Promise<void> {
  for (const output of outputs) {
    const link = await linkInWorkspace(output.path, workspace)
    if (link)
      throw new InputError(
        `${output.flag} ${output.path}: ${path.relative(process.cwd(), link) || link} is a symbolic link inside the workspace; an untrusted run writes no file through a link the checkout holds (remove it, or write outside the workspace)`
      )
  }
}
