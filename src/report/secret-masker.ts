import type { Pipeline } from '../spec/pipeline-types.js'

/** What the masker writes in place of a secret, as GitHub does. */
export const MASK = '***'

/** Values shorter than this are not masked: replacing every "1" in a log hides nothing. */
export const MIN_SECRET_LENGTH = 4

/**
 * Variables the runner itself sets that carry no secret: masking `${GITHUB_SHA}` or
 * `${HOME}` would only blank out logs. Any name that says it holds a credential is
 * still masked (`GITHUB_TOKEN`).
 */
const NOT_SECRET =
  /^(?:(?:GITHUB|RUNNER)_\w+|CI|HOME|PATH|PWD|USER|SHELL|LANG|TERM|TMPDIR|HOSTNAME)$/
const CREDENTIAL = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH/i

/**
 * The values to mask for a pipeline's `${VAR}`s: every variable it hands to containers
 * except the runner's own plain ones; a value of several lines is masked line by line
 * too (a log shows it a line at a time).
 */
export function secretValues(
  names: readonly string[],
  env: Record<string, string | undefined>
): string[] {
  const values = new Set<string>()
  for (const name of names) {
    if (NOT_SECRET.test(name) && !CREDENTIAL.test(name)) continue
    const value = env[name]
    if (!value) continue
    for (const part of [value, ...value.split(/\r?\n/)]) {
      if (part.trim().length >= MIN_SECRET_LENGTH) values.add(part)
    }
  }
  return [...values]
}

/** Replaces secret values with `***` in text, and in every string of a JSON-like value. */
export class SecretMasker {
  private readonly secrets: string[]

  /** The masker for a pipeline's `${VAR}`s as the environment sets them (see secretValues). */
  static forPipeline(
    pipeline: Pick<Pipeline, 'variables'>,
    env: Record<string, string | undefined>
  ): SecretMasker {
    return new SecretMasker(secretValues(pipeline.variables, env))
  }

  constructor(secrets: readonly string[] = []) {
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...secrets].sort((a, b) => b.length - a.length)
  }

  /** The secret values, for handing to the runner (`core.setSecret`). */
  get values(): readonly string[] {
    return this.secrets
  }

  mask(text: string): string {
    let out = text
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join(MASK)
    }
    return out
  }

  /** A copy of a JSON-like value with every string masked (keys included). */
  maskDeep<T>(value: T): T {
    if (this.secrets.length === 0) return value
    return this.deep(value) as T
  }

  private deep(value: unknown): unknown {
    if (typeof value === 'string') return this.mask(value)
    if (Array.isArray(value)) return value.map((v) => this.deep(v))
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.mask(k), this.deep(v)]))
    return value
  }
}
