/** Where JobGroups writes: lines, and the runner's group commands. */
export interface GroupSink {
  line(text: string): void
  open(title: string): void
  close(): void
}

/** A job's lines waiting for its group: more than this many characters are written early. */
export const HELD_LIMIT_CHARS = 8 * 1024 * 1024

/**
 * Folds each job's lines into a group of the runner's log, though jobs run side by side
 * and a group can hold only one of them (groups do not nest, and lines are written as they
 * come). One job at a time is live: its group is open and its lines show at once. The
 * others' lines wait in memory; a job that finishes has its lines written as one group
 * then (the live group is closed around it, and reopened as "(continued)"), and when the
 * live job finishes, the job that started next becomes live, its lines so far first. A job
 * whose waiting lines pass `limitChars` has them written as a group early, and goes on.
 */
export class JobGroups {
  private live: { slug: string; title: string } | undefined
  private readonly held = new Map<string, { title: string; lines: string[]; chars: number }>()

  constructor(
    private readonly sink: GroupSink,
    private readonly limitChars = HELD_LIMIT_CHARS
  ) {}

  /** A job began: it is live when none is, otherwise its lines wait. */
  started(slug: string, title: string): void {
    if (this.live) this.held.set(slug, { title, lines: [], chars: 0 })
    else {
      this.live = { slug, title }
      this.sink.open(title)
    }
  }

  /** A line of a job's (`slug`), or of the run's (undefined: written at once). */
  line(slug: string | undefined, text: string): void {
    const held = slug === undefined ? undefined : this.held.get(slug)
    if (!held) return this.sink.line(text)
    held.lines.push(text)
    held.chars += text.length
    if (held.chars > this.limitChars) {
      this.writeHeld(held)
      this.held.set(slug!, { title: `${held.title} (continued)`, lines: [], chars: 0 })
    }
  }

  /** A job ended (after its last line). */
  finished(slug: string): void {
    if (this.live?.slug === slug) {
      this.sink.close()
      this.live = undefined
      const [next] = this.held
      if (!next) return
      const [nextSlug, held] = next
      this.held.delete(nextSlug)
      this.live = { slug: nextSlug, title: held.title }
      this.sink.open(held.title)
      for (const text of held.lines) this.sink.line(text)
      return
    }
    const held = this.held.get(slug)
    if (!held) return
    this.held.delete(slug)
    this.writeHeld(held)
  }

  /** The run ended: what waits is written, and the live group closed. */
  end(): void {
    // Each live job that ends hands the group on to the next that waits.
    while (this.live) this.finished(this.live.slug)
  }

  /** Writes waiting lines as a group of their own, outside the live group. */
  private writeHeld(held: { title: string; lines: string[] }): void {
    if (this.live) this.sink.close()
    this.sink.open(held.title)
    for (const text of held.lines) this.sink.line(text)
    this.sink.close()
    if (this.live) {
      this.live.title = this.live.title.endsWith(' (continued)')
        ? this.live.title
        : `${this.live.title} (continued)`
      this.sink.open(this.live.title)
    }
  }
}
