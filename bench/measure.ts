import { execFileSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'

/** The middle value of some samples. */
export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Milliseconds one run of `fn` takes. */
export function timed(fn: () => unknown): number {
  const start = performance.now()
  fn()
  return performance.now() - start
}

/** Runs a command to completion, failing the benchmark loudly if it fails. */
export function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
}

/** `1234 ms` or `1.23 s`. */
export function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`
}
