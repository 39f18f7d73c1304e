/**
 * How long to wait before a stage's `attempt`-th retry, as ddeutil-workflow's retrying
 * stages wait: the first at once, the n-th after 1.2^n seconds.
 */
export function retryDelayMs(attempt: number): number {
  return attempt < 2 ? 0 : Math.round(1.2 ** attempt * 1000)
}

/** The name a retried stage's wrapper (scripts/retry-stage.sh) runs as: its `$0`. */
export const RETRY_WRAPPER_NAME = 'ctr-retry'
