/** Two groups: unit tests are pure logic; integration tests drive the real Docker engine. */
const transform = { '^.+\\.ts$': ['ts-jest', { useESM: true }] }
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: 'node'
}
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/**/*.test.itg.ts']
    }
  ]
}
