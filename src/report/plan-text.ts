import type { PlanDocument } from '../plan/plan-document.js'

/** The plan as a person reads it: levels of jobs, each instance with its image and needs. */
export function planText(doc: PlanDocument): string {
  const lines = [`pipeline ${doc.pipeline} (${doc.file})`]
  if (doc.on) lines.push(`on: ${doc.on} (run starts it now; an export schedules it)`)
  doc.levels.forEach((ids, level) => {
    lines.push(`level ${level}:`)
    for (const id of ids) {
      const job = doc.jobs.find((j) => j.id === id)!
      const limits = [
        job.needs.length ? `needs ${job.needs.join(', ')}` : '',
        (job.instances.length > 1 || job.instances_after) && job.max_parallel
          ? `max_parallel ${job.max_parallel}`
          : '',
        job.strategy_defaults
          ? `fail_fast ${job.fail_fast ? 'on' : 'off'}; ${job.strategy_defaults}'s defaults for what strategy: leaves out`
          : ''
      ].filter(Boolean)
      lines.push(`  ${id}${limits.length ? ` (${limits.join('; ')})` : ''}`)
      if (job.instances_after)
        lines.push(`    instances known after ${job.instances_after.join(', ')}`)
      for (const instance of job.instances)
        lines.push(
          `    ${instance.id}: ${instance.container.image.ref} as ${instance.container.name}`
        )
    }
  })
  return lines.join('\n')
}
