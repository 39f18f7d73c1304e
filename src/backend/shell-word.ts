/**
 * A word as sh reads it back, whatever it holds: single-quoted, each `'` closed, escaped
 * and reopened. No user text handed to a shell is ever its syntax.
 */
export function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`
}
