import type { JobOutcome } from '../plan/mermaid.js'
import { jobLabel, type PipelinePlan } from '../plan/pipeline-plan.js'
import { anchor, html, shorten, statusClass } from './html-text.js'

const NODE_W = 176
const NODE_H = 34
const COL_GAP = 56
const ROW_GAP = 14
const PAD = 8
/** Characters of a job's label drawn in its box; the whole label is its tooltip. */
const LABEL_CHARS = 24

/**
 * The DAG as an SVG, drawn here so the report needs no script library: a column per
 * depth (a job sits one column right of its deepest need), jobs in file order down each
 * column, an arrow per need. A node is coloured by how its job ended (`outcomes`) and
 * links to its first instance's row.
 */
export function dagSvg(plan: PipelinePlan, outcomes: Record<string, JobOutcome>): string {
  const byId = new Map(plan.jobs.map((job) => [job.id, job]))
  const depth = new Map<string, number>()
  const depthOf = (id: string): number => {
    const known = depth.get(id)
    if (known !== undefined) return known
    // The plan is acyclic (validated), so this recursion ends.
    const needs = byId.get(id)?.job.needs ?? []
    const d = needs.length === 0 ? 0 : 1 + Math.max(...needs.map(depthOf))
    depth.set(id, d)
    return d
  }
  const rows: number[] = []
  const at = new Map<string, { x: number; y: number }>()
  for (const job of plan.jobs) {
    const column = depthOf(job.id)
    const row = rows[column] ?? 0
    rows[column] = row + 1
    at.set(job.id, { x: PAD + column * (NODE_W + COL_GAP), y: PAD + row * (NODE_H + ROW_GAP) })
  }
  const width = PAD * 2 + rows.length * NODE_W + Math.max(0, rows.length - 1) * COL_GAP
  const height = PAD * 2 + Math.max(...rows, 1) * (NODE_H + ROW_GAP) - ROW_GAP
  const edges = plan.jobs.flatMap((job) =>
    job.job.needs.map((need) => {
      const from = at.get(need)!
      const to = at.get(job.id)!
      const [x1, y1, x2, y2] = [from.x + NODE_W, from.y + NODE_H / 2, to.x - 4, to.y + NODE_H / 2]
      const mid = (x1 + x2) / 2
      return `<path class="edge" d="M${x1} ${y1}C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}" marker-end="url(#arrow)"/>`
    })
  )
  const nodes = plan.jobs.map((job) => {
    const { x, y } = at.get(job.id)!
    const label = jobLabel(job)
    const outcome = outcomes[job.id]
    const first = job.instances[0]
    const box =
      `<g class="node ${outcome ? statusClass(outcome) : 'st-none'}">` +
      `<title>${html(label)}${outcome ? `: ${outcome}` : ''}</title>` +
      `<rect x="${x}" y="${y}" width="${NODE_W}" height="${NODE_H}" rx="6"/>` +
      `<text x="${x + NODE_W / 2}" y="${y + NODE_H / 2}">${html(shorten(label, LABEL_CHARS))}</text></g>`
    return first ? `<a href="#${anchor('i', first.slug)}">${box}</a>` : box
  })
  return [
    `<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Jobs and their needs">`,
    '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path d="M0 0L8 4L0 8z"/></marker></defs>',
    ...edges,
    ...nodes,
    '</svg>'
  ].join('\n')
}
