/** What ordering needs of a job: its id and the ids it needs. */
export interface GraphNode {
  id: string
  needs: readonly string[]
}

/**
 * Jobs in an order where each comes after everything it needs: declaration order, except
 * that a job waits for its needs. Returns the jobs that could not be placed (a cycle)
 * in `blocked`.
 */
export function orderJobs<T extends GraphNode>(jobs: readonly T[]): { order: T[]; blocked: T[] } {
  const order: T[] = []
  const placed = new Set<string>()
  let remaining = [...jobs]
  for (;;) {
    const next = remaining.find((j) => j.needs.every((n) => placed.has(n)))
    if (!next) return { order, blocked: remaining }
    order.push(next)
    placed.add(next.id)
    remaining = remaining.filter((j) => j !== next)
  }
}

/** A cycle through `needs`, written from its first job back to it (`a -> c -> b -> a`). */
export function findCycle(jobs: readonly GraphNode[]): string[] | undefined {
  const { blocked } = orderJobs(jobs)
  if (blocked.length === 0) return undefined
  const byId = new Map(blocked.map((j) => [j.id, j]))
  // Every blocked job waits on another blocked job, so walking needs must revisit one.
  const path: string[] = []
  let current = blocked[0]
  while (!path.includes(current.id)) {
    path.push(current.id)
    current = byId.get(current.needs.find((n) => byId.has(n))!)!
  }
  return [...path.slice(path.indexOf(current.id)), current.id]
}
