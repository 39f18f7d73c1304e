import type { Pipeline } from '../spec/pipeline-types.js'
import { secretValues } from '../spec/secret-values.js'

/** What the masker writes in place of a secret, as GitHub does. */
export const MASK = '***'

/** Replaces secret values with `***` in text, and in every string of a JSON-like value. */
export class SecretMasker {
  private readonly secrets: string[]

  /** The masker for a pipeline's `${VAR}`s as the environment sets them (see secretValues). */
  static forPipeline(
    pipeline: Pick<Pipeline, 'variables'>,
    env: Record<string, string | undefined>,
    secretNames: readonly string[] = []
  ): SecretMasker {
    return new SecretMasker(secretValues(pipeline.variables, env, secretNames))
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
