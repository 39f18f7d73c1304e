import { jobLabel, type PipelinePlan } from './pipeline-plan.js'

/** How a job ended, for colouring its node; jobs without one are drawn plain. */
export type JobOutcome = 'success' | 'failure' | 'skipped' | 'cancelled'

const STYLES: Record<JobOutcome, string> = {
  success: 'fill:#dafbe1,stroke:#1a7f37,color:#1a7f37',
  failure: 'fill:#ffebe9,stroke:#cf222e,color:#cf222e',
  skipped: 'fill:#f6f8fa,stroke:#8c959f,color:#57606a',
  cancelled: 'fill:#fff8c5,stroke:#9a6700,color:#9a6700'
}

/**
 * The DAG as a Mermaid flowchart, one node per job (a matrix job shows its instance
 * count), an edge per need; given outcomes, nodes are coloured by how their job ended.
 * GitHub renders it in job summaries, PR comments and Markdown files.
 */
export function mermaidDiagram(
  plan: PipelinePlan,
  outcomes: Record<string, JobOutcome> = {}
): string {
  const node = new Map(plan.jobs.map((job, i) => [job.id, `j${i}`]))
  const lines = ['flowchart LR']
  for (const job of plan.jobs) {
    lines.push(`  ${node.get(job.id)}["${escapeLabel(jobLabel(job))}"]`)
  }
  for (const job of plan.jobs)
    for (const need of job.job.needs) lines.push(`  ${node.get(need)} --> ${node.get(job.id)}`)
  const used = new Set(Object.values(outcomes))
  for (const outcome of Object.keys(STYLES) as JobOutcome[]) {
    if (!used.has(outcome)) continue
    lines.push(`  classDef ${outcome} ${STYLES[outcome]}`)
    const members = plan.jobs.filter((j) => outcomes[j.id] === outcome).map((j) => node.get(j.id))
    lines.push(`  class ${members.join(',')} ${outcome}`)
  }
  return lines.join('\n')
}

/** A node label as Mermaid shows it literally: quotes, tags, backticks and line breaks as entities. */
function escapeLabel(text: string): string {
  return text.replace(/["<>`\r\n]/g, (c) => `#${c.charCodeAt(0)};`)
}
