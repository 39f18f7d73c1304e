import { randomBytes } from 'node:crypto'

/**
 * A new run id: sortable by start time, unique, and safe in container, volume and
 * label names (`20261121-021500-3f9a1c`).
 */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${stamp}-${randomBytes(3).toString('hex')}`
}
