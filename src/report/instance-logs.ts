import { createWriteStream, mkdtempSync, type WriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
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

  /** Flushes and closes an instance's log (more lines reopen it). */
  async close(slug: string): Promise<void> {
    const file = this.files.get(slug)
    if (!file) return
    this.files.delete(slug)
    file.lines.flush()
    file.stream.end()
    await once(file.stream, 'close')
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
