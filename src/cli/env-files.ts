import { readFile } from 'node:fs/promises'
import { parse } from 'dotenv'
import { InputError } from '../pipeline/input-error.js'

/** A line that sets a variable, as dotenv reads one: `NAME=value`, `export NAME=value`, `NAME: value`. */
const ASSIGNMENT = /^\s*(?:export\s+)?[\w.-]+(?:\s*=|:\s)\s*(.*)$/
/** A blank line or a comment. */
const NOTHING = /^\s*(?:#.*)?$/

/**
 * Where a dotenv text has a line that dotenv would skip without a word (a line that sets
 * nothing: `oops`, `=value`): its 1-based line and column. A quoted value may span lines;
 * those lines are its own. Undefined when every line is fine.
 */
export function malformedLine(text: string): { line: number; col: number } | undefined {
  let openQuote: string | undefined
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (openQuote) {
      if (line.includes(openQuote)) openQuote = undefined
      continue
    }
    if (NOTHING.test(line)) continue
    const match = ASSIGNMENT.exec(line)
    if (!match) return { line: index + 1, col: line.search(/\S/) + 1 }
    const [quote] = match[1]
    if ((quote === '"' || quote === "'" || quote === '`') && !match[1].includes(quote, 1))
      openQuote = quote
  }
  return undefined
}

/**
 * Reads dotenv files (`--env-file`, `--secret-file`) in order, a later file's value winning;
 * parsed by the `dotenv` package, so the format is the one people already write. A file
 * that cannot be read, or a line that sets nothing, is a usage error naming the flag, the
 * file and the line; the line's text is not shown, since it may hold a secret.
 */
export async function readEnvFiles(
  files: readonly string[],
  flag: string
): Promise<Record<string, string>> {
  const values: Record<string, string> = {}
  for (const file of files) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code
      throw new InputError(`${flag} ${file}: cannot read it (${why ?? (error as Error).message})`)
    }
    const bad = malformedLine(text)
    if (bad)
      throw new InputError(
        `${flag} ${file}:${bad.line}:${bad.col}: expected NAME=value, a # comment or a blank line`
      )
    Object.assign(values, parse(text))
  }
  return values
}
