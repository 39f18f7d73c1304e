import { parseMaxParallel } from '../../src/app/run-session.js'

describe('parseMaxParallel', () => {
  it.each([
    ['1', 1],
    ['16', 16],
    [' 4 ', 4],
    ['0', undefined],
    ['-2', undefined],
    ['1.5', undefined],
    ['two', undefined],
    ['', undefined],
    ['07', undefined]
  ])('%j gives %j', (text, expected) => {
    expect(parseMaxParallel(text)).toBe(expected)
  })
})
