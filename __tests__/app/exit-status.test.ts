import { exitStatusOf } from '../../src/app/run-session.js'
import type { RunResult } from '../../src/scheduler/run-result.js'

describe('exitStatusOf', () => {
  it.each<[Pick<RunResult, 'status' | 'engine_lost'>, number]>([
    [{ status: 'success' }, 0],
    [{ status: 'failure' }, 1],
    [{ status: 'cancelled' }, 130],
    // The engine went away mid-run: the same status as an engine that was never there.
    [{ status: 'failure', engine_lost: true }, 3],
    // Interrupted first, then the engine was lost while unwinding: the interrupt says it.
    [{ status: 'cancelled', engine_lost: true }, 130]
  ])('%j exits %i', (result, status) => {
    expect(exitStatusOf(result)).toBe(status)
  })
})
