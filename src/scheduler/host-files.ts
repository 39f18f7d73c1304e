import { randomBytes } from 'node:crypto'
import { lstat, mkdir, realpath, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { isInside } from '../pipeline/host-access.js'

/**
 * Writes a file by writing a fresh temporary file beside it (created exclusively, so
 * never through a link) and renaming it over the name: a symlink at `file` is replaced,
 * never followed, and a reader never sees half a file.
 */
export async function writeFileReplacing(file: string, data: string | Uint8Array): Promise<void> {
  const temporary = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`
  )
  try {
    await writeFile(temporary, data, { flag: 'wx' })
    await rename(temporary, file)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}

/**
 * The first symlink on the way to `target` (absolute) that lies inside `workspace`,
 * where whoever wrote the checkout could have put it; undefined when there is none. Links
 * outside the workspace (the runner's own, above it) are followed as the system does.
 * Parts that do not exist yet end the walk: they will be made as folders.
 */
export async function linkInWorkspace(
  target: string,
  workspace: string
): Promise<string | undefined> {
  const root = await realpath(workspace)
  const absolute = path.resolve(target)
  let current = path.parse(absolute).root
  for (const part of path.relative(current, absolute).split(path.sep)) {
    if (part === '') continue
    const next = path.join(current, part)
    let stats
    try {
      stats = await lstat(next)
    } catch {
      return undefined
    }
    if (stats.isSymbolicLink()) {
      if (isInside(next, root)) return next
      current = await realpath(next)
    } else current = next
  }
  return undefined
}

/**
 * Makes `dir` (and the folders above it) for files written on behalf of an untrusted run,
 * then checks that no part of the way to it inside `workspace` is a symlink: throws naming
 * the link. A folder that a job swapped for a link meanwhile is caught here, just before
 * the files are written.
 */
export async function untrustedFolder(dir: string, workspace: string): Promise<void> {
  const before = await linkInWorkspace(dir, workspace)
  if (before) throw new Error(`${before} is a symbolic link inside the workspace`)
  await mkdir(dir, { recursive: true })
  const after = await linkInWorkspace(dir, workspace)
  if (after) throw new Error(`${after} is a symbolic link inside the workspace`)
}
