import type { StageResult } from '../../src/scheduler/run-result.js'

/** The lines job `id`'s stages printed, without the reporter's own about jobs and stages. */
export const printedBy = (lines: string[], id: string) =>
  lines.filter((l) => l.startsWith(`[${id}] `) && !/^\[[^\]]+\] (job |stage |warning: )/.test(l))

/** Each stage as `id status` and, for one that holds stages, its runs' keys and statuses, nested. */
export function stageShape(stages: readonly StageResult[]): unknown[] {
  return stages.map((s) =>
    s.nested
      ? [`${s.id} ${s.status}`, s.nested.map((r) => [`${r.key} ${r.status}`, stageShape(r.stages)])]
      : `${s.id} ${s.status}`
  )
}
