import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { Backend } from '../backend/backend.js'
import { letGo, type RunReporter } from './run-reporter.js'

/** A container made ready before its job's turn. */
export interface WarmContainer {
  id: string
  /** Started (its keep-alive runs): the job only execs its stages. */
  started: boolean
}

/**
 * Makes the containers of the next job instances ready while the current ones run, so a
 * job's turn costs an exec rather than a create and a start: at most `lookahead` at a
 * time, in the order the instances are waiting. What `create` cannot know yet (a value
 * from `needs`) it declines, and that instance makes its own container when its turn comes.
 * A container that no job takes is removed.
 */
export class ContainerWarmer {
  /** Instances not started yet, in order (a Set: one leaves in constant time). */
  private readonly waiting: Set<PlannedInstance>
  private readonly warm = new Map<string, Promise<WarmContainer | undefined>>()
  private readonly removals = new Set<Promise<void>>()
  /** Instances whose turn has come and whose container is not ready yet. */
  private readying = 0

  constructor(
    private readonly backend: Backend,
    /** Candidates, in the order they are expected to start. */
    instances: readonly PlannedInstance[],
    private readonly lookahead: number,
    /** Creates (and may start) an instance's container; undefined when it cannot yet. */
    private readonly create: (instance: PlannedInstance) => Promise<WarmContainer | undefined>,
    private readonly signal: AbortSignal,
    /** Where a warming or removal that failed and is let go leaves a trace. */
    private readonly reporter: Pick<RunReporter, 'debug'>
  ) {
    this.waiting = new Set(instances)
  }

  /** Warms the next instances that are not warm yet, up to the lookahead. */
  fill(): void {
    if (this.signal.aborted) return
    let ahead = 0
    for (const instance of this.waiting) {
      if (ahead >= this.lookahead) break
      ahead++
      if (this.warm.has(instance.id)) continue
      // The job makes its own container at its turn, and reports what fails then.
      const ready = this.create(instance).catch(letGo(this.reporter, `warming ${instance.id}`))
      this.warm.set(instance.id, ready)
      // One that cannot be warmed makes way for the next in line.
      void ready.then((container) => {
        if (container || !this.waiting.has(instance)) return
        this.waiting.delete(instance)
        this.fill()
      })
    }
  }

  /**
   * The instance's turn has come: its warm container, if it has one (undefined when it
   * has none, or warming failed), and the next instances are warmed.
   */
  async take(instance: PlannedInstance): Promise<WarmContainer | undefined> {
    const ready = this.warm.get(instance.id)
    this.warm.delete(instance.id)
    this.waiting.delete(instance)
    // The next are warmed once every container whose turn has come is ready: the engine
    // serves the jobs that wait first. (Warming the next wave as soon as the first of a
    // wave was ready held the rest of that wave back by half a second on two cores.)
    this.readying++
    void Promise.resolve(ready).finally(() => {
      if (--this.readying === 0) this.fill()
    })
    return ready
  }

  /** The instance will not run (skipped, cancelled): its container, if any, goes. */
  discard(instance: PlannedInstance): void {
    const ready = this.warm.get(instance.id)
    this.warm.delete(instance.id)
    this.waiting.delete(instance)
    this.fill()
    if (ready) this.removeLater(ready)
  }

  /** Removes a container in the background; `settled` waits for it. */
  removeLater(container: Promise<WarmContainer | undefined> | string): void {
    const removal = Promise.resolve(container)
      .then((c) => {
        const id = typeof c === 'string' ? c : c?.id
        return id ? this.backend.removeContainer(id) : undefined
      })
      .catch(letGo(this.reporter, 'removing a finished container'))
      .finally(() => this.removals.delete(removal))
    this.removals.add(removal)
  }

  /** Waits for every container being warmed or removed, and removes those not taken. */
  async settled(): Promise<void> {
    for (const ready of this.warm.values()) this.removeLater(ready)
    this.warm.clear()
    while (this.removals.size > 0) await Promise.all(this.removals)
  }
}
