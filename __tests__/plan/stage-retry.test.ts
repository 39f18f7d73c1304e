import { retryDelayMs } from '../../src/plan/stage-retry.js'

describe('retryDelayMs: ddeutil-workflow waits 1.2^n seconds before the n-th retry but the first', () => {
  it.each([
    [1, 0],
    [2, 1440],
    [3, 1728],
    [5, 2488],
    [19, 31948]
  ])('retry %i waits %i ms', (attempt, ms) => {
    expect(retryDelayMs(attempt)).toBe(ms)
  })
})
