import { MASK, SecretMasker } from '../../src/report/secret-masker.js'
import { secretValues } from '../../src/pipeline/secret-values.js'

describe('secretValues', () => {
  const env = {
    API_KEY: 's3cr3t-value',
    GITHUB_SHA: 'abc123def456',
    GITHUB_TOKEN: 'ghs_token_value',
    HOME: '/root',
    PIN: '123',
    CERT: 'line one\nline two',
    EMPTY: ''
  }
  it.each([
    [['API_KEY'], ['s3cr3t-value']],
    // The runner's plain variables are not secrets, but a token is, whatever its prefix.
    [['GITHUB_SHA', 'HOME'], []],
    [['GITHUB_TOKEN'], ['ghs_token_value']],
    // Too short to mask without blanking out every such string in the log.
    [['PIN'], []],
    [['CERT'], ['line one\nline two', 'line one', 'line two']],
    [['EMPTY', 'UNSET'], []]
  ])('%j', (names, expected) => expect(secretValues(names, env)).toEqual(expected))
})

describe('SecretMasker', () => {
  const masker = new SecretMasker(['hunter2-long', 'hunter2-long-and-longer', 'p@ss'])
  it.each([
    ['nothing secret', 'nothing secret'],
    ['key=hunter2-long;', `key=${MASK};`],
    ['hunter2-long-and-longer', MASK],
    ['p@ss p@ss', `${MASK} ${MASK}`]
  ])('%j', (text, expected) => expect(masker.mask(text)).toBe(expected))

  it('masks every string of a JSON-like value, keys included', () => {
    expect(
      masker.maskDeep({ jobs: [{ outputs: { token: 'is p@ss', n: 3 }, 'p@ss': true, none: null }] })
    ).toEqual({ jobs: [{ outputs: { token: `is ${MASK}`, n: 3 }, [MASK]: true, none: null }] })
  })

  it('returns the very value when there is nothing to mask', () => {
    const value = { a: 'b' }
    expect(new SecretMasker().maskDeep(value)).toBe(value)
  })
})
