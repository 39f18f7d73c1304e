import {
  describeSize,
  formatDuration,
  formatMemory,
  parseCpu,
  parseDuration,
  parseMemory
} from '../../src/pipeline/quantities.js'

describe('parseMemory', () => {
  it.each([
    ['512m', 512 * 1024 ** 2],
    ['2g', 2 * 1024 ** 3],
    ['2G', 2 * 1024 ** 3],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['64Mi', 64 * 1024 ** 2],
    ['100k', 102400],
    ['1048576', 1048576],
    ['2 gigs', undefined],
    ['', undefined],
    ['-1g', undefined],
    ['0', undefined],
    ['1.5x', undefined]
  ])('%s -> %s', (text, bytes) => expect(parseMemory(text)).toBe(bytes))
})

describe('parseCpu', () => {
  it.each([
    ['2', 2e9],
    ['1.5', 1.5e9],
    ['2.5', 2.5e9],
    ['500m', 5e8],
    ['0', undefined],
    ['two', undefined],
    ['1.5 cores', undefined]
  ])('%s -> %s', (text, nano) => expect(parseCpu(text)).toBe(nano))
})

describe('formatMemory', () => {
  it.each([
    [32 * 1024 ** 2, '32m'],
    [1536 * 1024 ** 2, '1536m'],
    [2 * 1024 ** 3, '2g'],
    [3 * 1024 ** 4, '3t'],
    [6 * 1024, '6k'],
    [1000, '1000b']
  ])('%s -> %s', (bytes, text) => {
    expect(formatMemory(bytes)).toBe(text)
    expect(parseMemory(text)).toBe(bytes)
  })
})

describe('describeSize', () => {
  it.each([
    [0, '0 bytes'],
    [1023, '1023 bytes'],
    [1024, '1 KiB'],
    [1024 ** 2, '1 MiB'],
    [1024 ** 2 + 1, '1 MiB'],
    [600 * 1024 ** 2, '600 MiB'],
    [1.25 * 1024 ** 3, '1.3 GiB'],
    [1023.96 * 1024, '1 MiB'],
    [5 * 1024 ** 5, '5120 TiB']
  ])('%s -> %s', (bytes, text) => expect(describeSize(bytes)).toBe(text))
})

describe('formatDuration', () => {
  it.each([
    [300, '0.3s'],
    [1000, '1s'],
    [1500, '1.5s'],
    [45_000, '45s'],
    [300_000, '5m'],
    [90_000, '1m30s'],
    [120_500, '2m0.5s'],
    [5_400_000, '1h30m'],
    [2_147_483_647, '596h31m23.6s']
  ])('%s ms -> %s, which reads back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
    expect(Math.abs(parseDuration(text)! - ms)).toBeLessThan(50)
  })
})
