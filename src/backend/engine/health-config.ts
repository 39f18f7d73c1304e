import type { HealthcheckPlan } from '../../plan/container-plan.js'

/** Docker's HEALTHCHECK as the Engine API takes it; durations in nanoseconds. */
export interface EngineHealthcheck {
  Test: string[]
  Interval: number
  Timeout: number
  Retries: number
  StartPeriod: number
}

/** A health check as the Engine API takes it, for a container and a Swarm task alike. */
export function healthConfig(check: HealthcheckPlan): EngineHealthcheck {
  const ns = (ms: number) => ms * 1_000_000
  return {
    Test: check.test,
    Interval: ns(check.intervalMs),
    Timeout: ns(check.timeoutMs),
    Retries: check.retries,
    StartPeriod: ns(check.startPeriodMs)
  }
}
