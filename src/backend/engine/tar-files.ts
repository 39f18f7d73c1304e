import path from 'node:path'
import { Header, Parser, Pax, type ReadEntry } from 'tar'
import { FileTooLargeError } from '../backend.js'

/** A tar block: headers and file data are padded to it; two empty ones end an archive. */
const BLOCK = 512

/**
 * A tar archive of empty folders (mode 0777, so any container user can write in them):
 * `dirs` are absolute paths under `root`, named relative to it. Built in memory, since it
 * holds headers only (512 bytes a folder; a path too long for one gets a pax header).
 */
export function directoriesArchive(root: string, dirs: readonly string[]): Buffer {
  const mtime = new Date()
  return archiveOf(
    dirs.map((dir) => ({ path: `${path.posix.relative(root, dir)}/`, mode: 0o777, mtime }))
  )
}

/**
 * A tar archive of files, in the order given (an engine extracts them in that order, so
 * a last file can say the others are complete). Built in memory: for small files.
 */
export function filesArchive(files: ReadonlyArray<{ path: string; content: Buffer }>): Buffer {
  const mtime = new Date()
  return archiveOf(files.map((f) => ({ ...f, mode: 0o600, mtime })))
}

/** Entries as tar blocks: a folder when its path ends with `/`, else a file of `content`. */
function archiveOf(
  entries: ReadonlyArray<{ path: string; mode: number; mtime: Date; content?: Buffer }>
): Buffer {
  const blocks: Buffer[] = []
  for (const { path: name, mode, mtime, content = Buffer.alloc(0) } of entries) {
    const header = new Header({
      path: name,
      mode,
      type: name.endsWith('/') ? 'Directory' : 'File',
      size: content.length,
      mtime
    })
    header.encode()
    if (header.needPax) blocks.push(new Pax({ path: header.path, mtime }).encode())
    blocks.push(header.block!, content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK))
  }
  blocks.push(Buffer.alloc(2 * BLOCK))
  return Buffer.concat(blocks)
}

/**
 * The text of each file right inside the folder an archive holds (as `docker cp` gives a
 * folder: entries named `<folder>/<file>`), by file name. A file larger than `limitBytes`
 * rejects with FileTooLargeError as soon as its header is read, and the archive is
 * destroyed: none of it is read.
 */
export function readFolderFiles(
  archive: NodeJS.ReadableStream,
  limitBytes: number
): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  const parser = new Parser()
  return new Promise((resolve, reject) => {
    parser.on('entry', (entry: ReadEntry) => {
      // Deeper entries are not this folder's files.
      const parts = entry.path.split('/').filter(Boolean)
      if (entry.size > limitBytes) {
        reject(new FileTooLargeError(parts.at(-1) ?? entry.path, entry.size, limitBytes))
        ;(archive as unknown as { destroy(): void }).destroy()
        parser.abort(new Error('file too large'))
        return
      }
      if (entry.type !== 'File' || parts.length !== 2) return void entry.resume()
      const chunks: Buffer[] = []
      entry.on('data', (chunk: Buffer) => chunks.push(chunk))
      entry.on('end', () => files.set(parts[1], Buffer.concat(chunks).toString('utf8')))
    })
    // The reject above has said why; what aborting the parser adds is no news.
    parser.on('error', () => undefined)
    parser.on('end', () => resolve(files))
    archive.on('error', reject)
    archive.pipe(parser as unknown as NodeJS.WritableStream)
  })
}
