import { Readable } from 'node:stream'
import { Header } from 'tar'
import { FileTooLargeError } from '../../../src/backend/backend.js'
import {
  directoriesArchive,
  filesArchive,
  readFolderFiles
} from '../../../src/backend/engine/tar-files.js'

/** A tar archive of files, as the engine sends a folder: `[path, text]` entries. */
function archiveOf(entries: Array<[string, string]>): Buffer {
  const blocks: Buffer[] = []
  for (const [name, text] of entries) {
    const data = Buffer.from(text)
    const dir = name.endsWith('/')
    const header = new Header({
      path: name,
      mode: 0o644,
      type: dir ? 'Directory' : 'File',
      size: dir ? 0 : data.length,
      mtime: new Date(0)
    })
    header.encode()
    blocks.push(header.block!)
    if (!dir) blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)])
}

describe('readFolderFiles', () => {
  it("reads the folder's own files, not deeper ones nor folders", async () => {
    const archive = archiveOf([
      ['0/', ''],
      ['0/output', 'rows=5\n'],
      ['0/annotations', 'é'.repeat(300)],
      ['0/sub/', ''],
      ['0/sub/deep', 'no']
    ])
    const files = await readFolderFiles(Readable.from([archive]), 1024)
    expect([...files]).toEqual([
      ['output', 'rows=5\n'],
      ['annotations', 'é'.repeat(300)]
    ])
  })

  it('refuses a file over the limit from its header, naming it and its size', async () => {
    const archive = archiveOf([['0/output', 'x'.repeat(2000)]])
    const stream = Readable.from([archive.subarray(0, 512)])
    const error = await readFolderFiles(stream, 1000).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FileTooLargeError)
    expect((error as FileTooLargeError).message).toBe(
      'output is 2000 bytes, more than the 1000 allowed'
    )
    expect(stream.destroyed).toBe(true)
  })
})

describe('directoriesArchive', () => {
  it('names each folder relative to the root, mode 0777, with a pax header for a long path', async () => {
    const long = `/ctr/state/${'m'.repeat(150)}/0`
    const archive = directoriesArchive('/ctr', ['/ctr/workspace', long])
    const seen: Array<[string, string, number]> = []
    const { Parser } = await import('tar')
    const parser = new Parser()
    parser.on('entry', (e) => {
      seen.push([e.type, e.path, e.mode ?? 0])
      e.resume()
    })
    await new Promise((resolve) => {
      parser.on('end', resolve)
      parser.end(archive)
    })
    expect(seen).toEqual([
      ['Directory', 'workspace/', 0o777],
      ['Directory', `state/${'m'.repeat(150)}/0/`, 0o777]
    ])
  })
})

describe('filesArchive', () => {
  it('holds each file in the order given, with its exact bytes and mode 0600', async () => {
    const body = Buffer.from('x'.repeat(513))
    const archive = filesArchive([
      { path: 'abc', content: body },
      { path: 'abc.ok', content: Buffer.alloc(0) }
    ])
    const seen: Array<[string, string, number, number]> = []
    const { Parser } = await import('tar')
    const parser = new Parser()
    parser.on('entry', (e) => {
      const chunks: Buffer[] = []
      e.on('data', (c: Buffer) => chunks.push(c))
      e.on('end', () => seen.push([e.type, e.path, e.mode ?? 0, Buffer.concat(chunks).length]))
    })
    await new Promise((resolve) => {
      parser.on('end', resolve)
      parser.end(archive)
    })
    expect(seen).toEqual([
      ['File', 'abc', 0o600, 513],
      ['File', 'abc.ok', 0o600, 0]
    ])
    expect(archive.length).toBe(512 + 1024 + 512 + 1024)
  })
})
