import type { Pipeline } from '../pipeline/pipeline-types.js'
import { secretValues } from '../pipeline/secret-values.js'
import { PipelineFileError } from '../pipeline/file-problems.js'

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

  /**
   * An error as it may be shown: a PipelineFileError with each problem's message masked, any
   * other error's message masked in place (its class, and so its exit status, kept).
   */
  maskError(error: unknown): unknown {
    if (error instanceof PipelineFileError)
      return new PipelineFileError(
        error.problems.map((p) => ({ ...p, message: this.mask(p.message) }))
      )
    if (error instanceof Error) error.message = this.mask(error.message)
    return error
  }

  private deep(value: unknown): unknown {
    if (typeof value === 'string') return this.mask(value)
    if (Array.isArray(value)) return value.map((v) => this.deep(v))
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.mask(k), this.deep(v)]))
    return value
  }
}
