import picomatch from 'picomatch'

/**
 * The files among `changed` that a job's `changed_files` globs select: those matching a
 * glob and no `!glob`. Globs are matched against repository paths as GitHub lists them
 * (`data/sales.csv`), dot files included; a leading `./` of either side is ignored.
 */
export function matchChangedFiles(globs: readonly string[], changed: readonly string[]): string[] {
  const normal = (p: string) => p.replace(/^\.\//, '')
  const include = globs.filter((g) => !g.startsWith('!')).map(normal)
  const exclude = globs.filter((g) => g.startsWith('!')).map((g) => normal(g.slice(1)))
  const options = { dot: true }
  const included = include.length > 0 ? picomatch(include, options) : () => true
  const excluded = exclude.length > 0 ? picomatch(exclude, options) : () => false
  return changed.map(normal).filter((file) => included(file) && !excluded(file))
}

/**
 * Reads a list of changed files as `git diff --name-only` prints it: one path per line,
 * blank lines ignored.
 */
export function parseChangedFiles(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, '').trim())
    .filter((line) => line !== '')
}
