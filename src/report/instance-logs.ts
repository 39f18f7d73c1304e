import { createWriteStream, mkdtempSync, type WriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { BlockWriter } from './block-writer.js'

/**
 * Keeps each job instance's log whole, in a file of its own, so that a summary can show
 * the end of a failed one however long it was, without holding logs in memory.
 */
export class InstanceLogs {
  private readonly files = new Map<string, { stream: WriteStream; lines: BlockWriter }>()
  /** Logs being closed: until their streams close, the files may lack their last lines. */
  private readonly closing = new Map<string, Promise<void>>()
  readonly dir: string

  constructor(dir = mkdtempSync(path.join(process.env.RUNNER_TEMP ?? tmpdir(), 'ctr-logs-'))) {
    this.dir = dir
  }

  /** The file that holds one instance's log. */
  fileOf(slug: string): string {
    return path.join(this.dir, `${slug}.log`)
  }

  append(slug: string, line: string): void {
    let file = this.files.get(slug)
    if (!file) {
      const stream = createWriteStream(this.fileOf(slug), { flags: 'a' })
      file = { stream, lines: new BlockWriter(stream) }
      this.files.set(slug, file)
    }
    file.lines.line(line)
  }

  /** A promise while a log file has more queued than the disk has taken. */
  backlog(): Promise<void> | undefined {
    for (const { lines } of this.files.values()) {
      const waiting = lines.backlog()
      if (waiting) return waiting
    }
    return undefined
  }

  /**
   * Flushes and closes an instance's log (more lines reopen it): when the instance ends,
   * so that a big matrix does not hold a file open per instance. Resolves once the file
   * has all its lines, also for a caller that comes while another's close is under way.
   */
  async close(slug: string): Promise<void> {
    const file = this.files.get(slug)
    if (file) {
      this.files.delete(slug)
      file.lines.flush()
      file.stream.end()
      const closed = once(file.stream, 'close').then(() => {
        if (this.closing.get(slug) === closed) this.closing.delete(slug)
      })
      this.closing.set(slug, closed)
    }
    await this.closing.get(slug)
  }

  /**
   * The last `lines` lines of an instance's log, read from at most the last `maxBytes`
   * of the file; '' when it logged nothing.
   */
  async tail(slug: string, lines: number, maxBytes = 64 * 1024): Promise<string> {
    return (await this.read(slug, maxBytes)).text.split('\n').slice(-lines).join('\n')
  }

  /**
   * An instance's log, or its end when the file holds more than `maxBytes`: `size` is the
   * whole file's, and `cut` says the text starts later than the log (after a whole line:
   * a partial first line is dropped rather than shown half). Without a trailing newline;
   * '' when it logged nothing.
   */
  async read(
    slug: string,
    maxBytes: number
  ): Promise<{ text: string; size: number; cut: boolean }> {
    await this.close(slug)
    let file
    try {
      file = await open(this.fileOf(slug), 'r')
    } catch {
      return { text: '', size: 0, cut: false }
    }
    try {
      const { size } = await file.stat()
      const length = Math.min(size, maxBytes)
      const buffer = Buffer.alloc(length)
      await file.read(buffer, 0, length, size - length)
      const text = buffer.toString('utf8').replace(/\n$/, '')
      const cut = length < size
      const firstBreak = text.indexOf('\n')
      return { text: !cut ? text : firstBreak < 0 ? '' : text.slice(firstBreak + 1), size, cut }
    } finally {
      await file.close()
    }
  }

  /** Closes every log and removes their folder. */
  async remove(): Promise<void> {
    await Promise.all([...this.files.keys()].map((slug) => this.close(slug)))
    await rm(this.dir, { recursive: true, force: true })
  }
}
