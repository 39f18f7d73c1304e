import dockerignoreModule from '@balena/dockerignore'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { create as createTar } from 'tar'

// A CommonJS module whose types declare an ES default: at run time the import is the factory.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default

/**
 * A tar stream of a build context, as `docker build` sends it: every file of the folder
 * except what its `.dockerignore` excludes, matched with the rules Docker uses
 * (@balena/dockerignore); the Dockerfile and `.dockerignore` are always sent, as the
 * docker CLI does. Files stream from disk: a large context is never held in memory.
 */
export async function buildContext(
  contextDir: string,
  dockerfile: string
): Promise<NodeJS.ReadableStream> {
  let rules = ''
  try {
    rules = await readFile(path.join(contextDir, '.dockerignore'), 'utf8')
  } catch {
    // No .dockerignore: the whole folder is the context.
  }
  const ignore = dockerignore({ ignorecase: false }).add(rules)
  // With an exception (`!keep/this`), a folder that is excluded may still hold files that
  // are not, so folders are walked; otherwise an excluded folder is skipped whole.
  const hasExceptions = /^\s*!/m.test(rules)
  const alwaysSent = new Set([path.posix.normalize(dockerfile), '.dockerignore'])
  const entries = await readdir(contextDir)
  return createTar(
    {
      cwd: contextDir,
      portable: true,
      filter: (entryPath, stat) => {
        const relative = path.posix.normalize(entryPath)
        if (alwaysSent.has(relative) || !ignore.ignores(relative)) return true
        return hasExceptions && 'isDirectory' in stat && stat.isDirectory()
      }
    },
    entries
  ) as unknown as NodeJS.ReadableStream
}
