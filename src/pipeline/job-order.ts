/** What ordering needs of a job: its id and the ids it needs. */
export interface GraphNode {
  id: string
  needs: readonly string[]
}

/**
 * Jobs in an order where each comes after everything it needs: declaration order, except
 * that a job waits for its needs (at each step, the first declared job that is ready).
 * Returns the jobs that could not be placed (a cycle, or a need on no job) in `blocked`.
 * Linear but for a heap of ready jobs: pipelines with tens of thousands of jobs are
 * generated, and validation orders them on every load.
 */
export function orderJobs<T extends GraphNode>(jobs: readonly T[]): { order: T[]; blocked: T[] } {
  const waiting = jobs.map((j) => j.needs.length)
  const dependents = new Map<string, number[]>()
  jobs.forEach((job, index) => {
    for (const need of job.needs) {
      const list = dependents.get(need)
      if (list) list.push(index)
      else dependents.set(need, [index])
    }
  })
  const ready = new MinHeap()
  waiting.forEach((count, index) => count === 0 && ready.push(index))
  const order: T[] = []
  const placed = new Set<string>()
  for (let index = ready.pop(); index !== undefined; index = ready.pop()) {
    const job = jobs[index]
    order.push(job)
    // A second job with the same id (reported elsewhere) must not release its dependents twice.
    if (placed.has(job.id)) continue
    placed.add(job.id)
    for (const dependent of dependents.get(job.id) ?? []) {
      if (--waiting[dependent] === 0) ready.push(dependent)
    }
  }
  const blocked = order.length === jobs.length ? [] : jobs.filter((_, i) => waiting[i] > 0)
  return { order, blocked }
}

/** Indexes, smallest first: the declaration order among the jobs that are ready. */
class MinHeap {
  private readonly items: number[] = []

  push(value: number): void {
    const items = this.items
    let i = items.push(value) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (items[parent] <= value) break
      items[i] = items[parent]
      i = parent
    }
    items[i] = value
  }

  pop(): number | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        if (left >= items.length) break
        const child = left + 1 < items.length && items[left + 1] < items[left] ? left + 1 : left
        if (items[child] >= last) break
        items[i] = items[child]
        i = child
      }
      items[i] = last
    }
    return top
  }
}

/** A cycle through `needs`, written from its first job back to it (`a -> c -> b -> a`). */
export function findCycle(jobs: readonly GraphNode[]): string[] | undefined {
  const { blocked } = orderJobs(jobs)
  if (blocked.length === 0) return undefined
  const byId = new Map(blocked.map((j) => [j.id, j]))
  // Every blocked job waits on another blocked job, so walking needs must revisit one.
  const path: string[] = []
  const step = new Map<string, number>()
  let current = blocked[0]
  while (!step.has(current.id)) {
    step.set(current.id, path.push(current.id) - 1)
    current = byId.get(current.needs.find((n) => byId.has(n))!)!
  }
  return [...path.slice(step.get(current.id)), current.id]
}
