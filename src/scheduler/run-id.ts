import { randomBytes } from 'node:crypto'
import { InputError } from '../pipeline/input-error.js'

/**
 * A new run id: sortable by start time, unique, and safe in container, volume and
 * label names (`20261121-021500-3f9a1c`).
 */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${stamp}-${randomBytes(3).toString('hex')}`
}

/** What a run id may look like: the characters Docker allows in names, no more than 128. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

/**
 * `text` when it can be a run id; else a usage error naming `where` (the flag or input):
 * an empty id would match every run's resources in a sweep by label.
 */
export function checkRunId(text: string, where: string): string {
  if (!RUN_ID.test(text))
    throw new InputError(
      `${where} '${text}': expected a run id such as 20261121-021500-3f9a1c (letters, digits, '_', '.', '-')`
    )
  return text
}
