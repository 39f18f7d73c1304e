import { InputError } from '../pipeline/input-error.js'
import { formatMemory, parseMemory } from '../pipeline/quantities.js'

/**
 * How much a stage may write to `$CTR_OUTPUT` (and to `$CTR_ANNOTATIONS`): GitHub keeps
 * 1 MiB of outputs per job, and the files are read into memory whole.
 */
export const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 ** 2

/** The largest `CTR_OUTPUT_LIMIT` taken: beyond it a file no longer fits in one string. */
const MAX_OUTPUT_LIMIT_BYTES = 256 * 1024 ** 2

/**
 * `CTR_OUTPUT_LIMIT`: the size a stage's output file may reach (`1m`, `4Mi`, `65536`);
 * unset, DEFAULT_OUTPUT_LIMIT_BYTES. Anything else is a usage error.
 */
export function outputLimitFromEnv(env: Record<string, string | undefined>): number {
  const text = env.CTR_OUTPUT_LIMIT
  if (text === undefined || text === '') return DEFAULT_OUTPUT_LIMIT_BYTES
  const bytes = parseMemory(text)
  if (bytes === undefined || bytes > MAX_OUTPUT_LIMIT_BYTES)
    throw new InputError(
      `CTR_OUTPUT_LIMIT is '${text}': expected a size such as 1m or 65536, at most ${formatMemory(MAX_OUTPUT_LIMIT_BYTES)}`
    )
  return bytes
}

/**
 * Parses what a stage wrote to `$CTR_OUTPUT`: `key=value` lines and `key<<DELIM` blocks,
 * as GitHub Actions' `$GITHUB_OUTPUT`. Returns the outputs, or throws on a block that
 * never closes (naming the key), since a silently truncated value is worse.
 */
export function parseOutputFile(text: string): Record<string, string> {
  // No prototype: a key named `__proto__` or `constructor` is an output like any other.
  const outputs = Object.create(null) as Record<string, string>
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
