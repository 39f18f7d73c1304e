/**
 * Parses what a stage wrote to `$CTR_OUTPUT`: `key=value` lines and `key<<DELIM` blocks,
 * as GitHub Actions' `$GITHUB_OUTPUT`. Returns the outputs, or throws on a block that
 * never closes (naming the key), since a silently truncated value is worse.
 */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '')
    if (line.trim() === '') continue
    const heredoc = line.indexOf('<<')
    const equals = line.indexOf('=')
    if (heredoc > 0 && (equals < 0 || heredoc < equals)) {
      const key = line.slice(0, heredoc)
      const delimiter = line.slice(heredoc + 2)
      const body: string[] = []
      i += 1
      while (i < lines.length && lines[i].replace(/\r$/, '') !== delimiter) body.push(lines[i++])
      if (i >= lines.length) throw new Error(`output '${key}': no closing '${delimiter}' line`)
      outputs[key] = body.join('\n')
    } else if (equals > 0) {
      outputs[line.slice(0, equals)] = line.slice(equals + 1)
    } else {
      throw new Error(`output line ${i + 1} is neither 'key=value' nor 'key<<DELIMITER': '${line}'`)
    }
  }
  return outputs
}
