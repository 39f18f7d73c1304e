import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Annotation } from '../scheduler/run-result.js'

/**
 * A file as shown to users and as GitHub annotations name it: relative to `base` (the
 * checkout, or the current folder) when it lies inside it, else as given. A relative
 * path that exists (a pipeline file named on the command line) is resolved first; one
 * that does not (`pipeline input`, a repository path written by a stage) is kept.
 */
export function relativeTo(file: string, base: string): string {
  const absolute = path.resolve(file)
  if (!path.isAbsolute(file) && !existsSync(absolute)) return file
  const relative = path.relative(base, absolute)
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative
}

/** Where an annotation points, as compilers print it: `data/sales.csv:12:3`; '' for none. */
export function annotationLocation(annotation: Annotation, base: string): string {
  if (!annotation.file) return ''
  return [relativeTo(annotation.file, base), annotation.line, annotation.col]
    .filter((part) => part !== undefined)
    .join(':')
}

/** A duration as the console and the summary show it: `1.25 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}
