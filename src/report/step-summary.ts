import type { RunResult } from '../engine/run-result.js'
import type { PipelinePlan } from '../plan/pipeline-plan.js'
import type { InstanceLogs } from './instance-logs.js'

/** Lines of a failed instance's log that the summary shows. */
const TAIL_LINES = 40

/**
 * The job summary's Markdown: for each failed job instance, the end of its log in a
 * collapsed block, so the reason is one click away without opening the whole log.
 */
export async function stepSummaryMarkdown(
  plan: PipelinePlan,
  result: RunResult,
  logs: InstanceLogs
): Promise<string> {
  const slugs = new Map(plan.jobs.flatMap((j) => j.instances.map((i) => [i.id, i.slug])))
  const parts = [`## ctr-pipeline: ${escapeHtml(result.pipeline)} ${result.status}`]
  for (const job of result.jobs) {
    if (job.status !== 'failure') continue
    const tail = await logs.tail(slugs.get(job.id) ?? job.job, TAIL_LINES)
    const fence = '`'.repeat(Math.max(3, longestRun(tail, '`') + 1))
    parts.push(
      `<details><summary>${escapeHtml(job.id)} failed: ${escapeHtml(job.error ?? '')}</summary>`,
      `${fence}text\n${tail || '(no output)'}\n${fence}`,
      '</details>'
    )
  }
  return `${parts.join('\n\n')}\n`
}

function longestRun(text: string, char: string): number {
  let longest = 0
  for (const run of text.match(new RegExp(`\\${char}+`, 'g')) ?? []) {
    longest = Math.max(longest, run.length)
  }
  return longest
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
