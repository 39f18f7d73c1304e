import type { JobSpec } from './pipeline-types.js'
import { SpecError } from './spec-error.js'

/**
 * The order to run jobs one after another: declaration order, except that a job waits
 * for every job it needs. A cycle is a SpecError whose message shows it (`a -> b -> a`).
 */
export function orderJobs(jobs: readonly JobSpec[]): JobSpec[] {
  const byId = new Map(jobs.map((j) => [j.id, j]))
  const ordered: JobSpec[] = []
  const placed = new Set<string>()
  while (ordered.length < jobs.length) {
    const next = jobs.find((j) => !placed.has(j.id) && j.needs.every((n) => placed.has(n)))
    if (!next) {
      const cycle = findCycle(
        jobs.filter((j) => !placed.has(j.id)),
        byId
      )
      const first = byId.get(cycle[0])!
      throw new SpecError([
        { ...first.position, message: `jobs form a cycle through 'needs': ${cycle.join(' -> ')}` }
      ])
    }
    ordered.push(next)
    placed.add(next.id)
  }
  return ordered
}

function findCycle(remaining: JobSpec[], byId: Map<string, JobSpec>): string[] {
  // Every remaining job waits on another remaining job, so walking needs must revisit one.
  const path: string[] = []
  let current = remaining[0]
  while (!path.includes(current.id)) {
    path.push(current.id)
    const need = current.needs.find((n) => remaining.some((j) => j.id === n))!
    current = byId.get(need)!
  }
  return [...path.slice(path.indexOf(current.id)), current.id]
}
