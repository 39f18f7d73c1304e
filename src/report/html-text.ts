import type { Status } from '../scheduler/run-result.js'

/** Text for HTML content and quoted attributes: every character that could start markup. */
export function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Text cut to `max` characters, with an ellipsis when it was longer. */
export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** The CSS class that colours a status (`st-failure`), shared by the page and its SVGs. */
export function statusClass(status: Status): string {
  return `st-${status}`
}

/** How a slug appears in element ids: the log is `log-<slug>`, the table row `i-<slug>`. */
export function anchor(kind: 'log' | 'i', slug: string): string {
  return `${kind}-${slug.replace(/[^A-Za-z0-9_-]/g, '_')}`
}
