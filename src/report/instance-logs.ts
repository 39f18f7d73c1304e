import { createWriteStream, mkdtempSync, type WriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { once } from 'node:events'

/**
 * Keeps each job instance's log whole, in a file of its own, so that a summary can show
 * the end of a failed one however long it was, without holding logs in memory.
 */
export class InstanceLogs {
  private readonly streams = new Map<string, WriteStream>()
  readonly dir: string

  constructor(dir = mkdtempSync(path.join(process.env.RUNNER_TEMP ?? tmpdir(), 'ctr-logs-'))) {
    this.dir = dir
  }

  /** The file that holds one instance's log. */
  fileOf(slug: string): string {
    return path.join(this.dir, `${slug}.log`)
  }

  append(slug: string, line: string): void {
    let stream = this.streams.get(slug)
    if (!stream) {
      stream = createWriteStream(this.fileOf(slug), { flags: 'a' })
      this.streams.set(slug, stream)
    }
    stream.write(`${line}\n`)
  }

  /** Flushes and closes an instance's log (more lines reopen it). */
  async close(slug: string): Promise<void> {
    const stream = this.streams.get(slug)
    if (!stream) return
    this.streams.delete(slug)
    stream.end()
    await once(stream, 'close')
  }

  /**
   * The last `lines` lines of an instance's log, read from at most the last `maxBytes`
   * of the file; '' when it logged nothing.
   */
  async tail(slug: string, lines: number, maxBytes = 64 * 1024): Promise<string> {
    await this.close(slug)
    let file
    try {
      file = await open(this.fileOf(slug), 'r')
    } catch {
      return ''
    }
    try {
      const { size } = await file.stat()
      const length = Math.min(size, maxBytes)
      const buffer = Buffer.alloc(length)
      await file.read(buffer, 0, length, size - length)
      const text = buffer.toString('utf8').replace(/\n$/, '')
      const all = text.split('\n')
      // A partial first line (cut by maxBytes) is dropped rather than shown half.
      const whole = length < size ? all.slice(1) : all
      return whole.slice(-lines).join('\n')
    } finally {
      await file.close()
    }
  }
}
