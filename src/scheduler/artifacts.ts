import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import picomatch from 'picomatch'
import * as tar from 'tar'
import { artifactBase, artifactPatternProblem } from '../pipeline/artifact-patterns.js'
import type { Backend } from '../backend/backend.js'

/** What copying a job's artifacts found. */
export interface CopiedArtifacts {
  /** Files written under the destination folder. */
  files: number
  /** Patterns that matched nothing in the container. */
  missing: string[]
}

/**
 * Copies a job's declared artifacts out of its container into `dest`, streaming the
 * engine's tar archive straight to disk (never holding a file in memory).
 *
 * A path without wildcards lands as `docker cp` puts it: `dest/<its last part>`, a folder
 * with its contents. A glob is read from the folder before its first wildcard, and the
 * files it matches keep their paths below that folder: `/out/**\/*.csv` puts
 * `/out/a/b.csv` at `dest/a/b.csv`. Relative patterns start at the container's working
 * folder. Ownership is not kept: files belong to whoever runs ctr-pipeline.
 */
export async function copyArtifacts(
  backend: Backend,
  containerId: string,
  patterns: string[],
  dest: string
): Promise<CopiedArtifacts> {
  const copied: CopiedArtifacts = { files: 0, missing: [] }
  const workingDir = patterns.every((p) => p.startsWith('/'))
    ? '/'
    : await backend.workingDir(containerId)
  await mkdir(dest, { recursive: true })
  for (const pattern of patterns) {
    const absolute = path.posix.resolve(workingDir, pattern)
    const problem = artifactPatternProblem(absolute)
    if (problem) throw new Error(`artifact ${problem}`)
    const { base, glob, isGlob } = artifactBase(absolute)
    const archive = await backend.archive(containerId, base)
    let files = 0
    if (archive) {
      const matches = isGlob ? picomatch(glob, { dot: true }) : () => true
      await pipeline(
        archive,
        tar.x({
          cwd: dest,
          strip: isGlob ? 1 : 0,
          preserveOwner: false,
          filter: (entryPath, entry) => {
            if ((entry as tar.ReadEntry).type === 'Directory') return !isGlob
            // Below the archive's top entry (the base folder itself), or any folder above
            // it that the glob matches: `/out/*` takes `/out/sub/` with what it holds.
            const below = entryPath.split('/').slice(1)
            const taken = !isGlob || below.some((_, i) => matches(below.slice(0, i + 1).join('/')))
            if (taken) files++
            return taken
          }
        })
      )
    }
    if (files === 0) copied.missing.push(pattern)
    copied.files += files
  }
  return copied
}
