/** What BlockWriter needs of a stream: process.stdout, a file's WriteStream. */
export interface BlockSink {
  write(text: string): boolean
  readonly writableLength: number
  once(event: 'drain' | 'close', listener: () => void): unknown
}

/** One write per this many characters at most, or per turn of the event loop. */
const BLOCK_CHARS = 64 * 1024
/** More than this queued in the stream (a pipe read slowly) asks producers to wait. */
const MAX_QUEUED_BYTES = 1024 * 1024

/**
 * Writes lines to a stream in blocks. A write per line is a system call per line, which
 * held a stage's log to about 60 MB/s; lines wait here until a block is full or the
 * current turn of the event loop ends, so they still show as they come. Writes to a pipe
 * are asynchronous in Node: `backlog()` tells a producer when the stream has queued more
 * than its reader takes, so that the producer waits instead of filling memory.
 */
export class BlockWriter {
  private pending = ''
  private scheduled = false
  private drained: Promise<void> | undefined

  constructor(private readonly sink: BlockSink) {}

  /** Queues one line (a newline is added). */
  line(text: string): void {
    this.pending += `${text}\n`
    if (this.pending.length >= BLOCK_CHARS) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** Writes what is queued now: before anything else writes to the same stream. */
  flush(): void {
    this.scheduled = false
    if (!this.pending) return
    const text = this.pending
    this.pending = ''
    this.sink.write(text)
  }

  /**
   * A promise while the stream holds more than it should, undefined when it has room. It
   * settles on 'drain', or on 'close' when the stream goes away (a reader that quit): a
   * producer never waits on a stream that will not drain.
   */
  backlog(): Promise<void> | undefined {
    if (this.drained) return this.drained
    if (this.sink.writableLength <= MAX_QUEUED_BYTES) return undefined
    this.drained = new Promise((resolve) => {
      const done = () => {
        this.drained = undefined
        resolve()
      }
      this.sink.once('drain', done)
      this.sink.once('close', done)
    })
    return this.drained
  }
}

const writers = new Map<'stdout' | 'stderr', BlockWriter>()

/**
 * The one BlockWriter of process.stdout (or stderr), shared so that every line keeps its
 * order; what it holds is written when the process exits, however it exits.
 */
export function stdoutLines(stream: 'stdout' | 'stderr' = 'stdout'): BlockWriter {
  let writer = writers.get(stream)
  if (!writer) {
    const created = new BlockWriter(process[stream])
    process.on('exit', () => created.flush())
    writers.set(stream, created)
    writer = created
  }
  return writer
}
