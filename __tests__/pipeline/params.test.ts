import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { InputError } from '../../src/pipeline/input-error.js'
import { resolveParams } from '../../src/pipeline/params.js'

const pipeline = parsePipeline(
  `params:
  s: {type: str, default: sales}
  i: {type: int, default: 1}
  f: {type: float}
  b: {type: bool, default: false}
  l: {type: list}
  m: {type: map}
  r: {type: str, required: true}
jobs:
  a:
    runs-on: {with: {image: x}}
`,
  'p.yml',
  '/'
)

describe('resolveParams', () => {
  it('uses defaults and converts text to the declared types', () => {
    expect(
      resolveParams(pipeline, { r: 'x', i: '42', f: '2.5', b: 'true', l: 'a, b', m: '{"k": 1}' })
    ).toEqual({ s: 'sales', r: 'x', i: 42, f: 2.5, b: true, l: ['a', 'b'], m: { k: 1 } })
  })

  it('takes typed values as they are', () => {
    expect(resolveParams(pipeline, { r: 'x', i: 7, l: [1, 2], b: true })).toMatchObject({
      i: 7,
      l: [1, 2],
      b: true
    })
  })

  it.each([
    [{}, "param 'r' is required: give it with --param r=VALUE"],
    [{ r: 'x', i: '1.5' }, 'param \'i\': expected an integer, got "1.5"'],
    [{ r: 'x', b: 'yes' }, "param 'b': expected true or false"],
    [{ r: 'x', m: '[1]' }, "param 'm': expected a JSON object"],
    [{ r: 'x', f: 'abc' }, "param 'f': expected a number"],
    [{ r: 'x', nope: '1' }, "param 'nope' is not declared in p.yml"]
  ])('refuses %j', (given, message) => {
    expect(() => resolveParams(pipeline, given)).toThrow(InputError)
    expect(() => resolveParams(pipeline, given)).toThrow(message)
  })
})

describe("ddeutil-workflow's param types", () => {
  const typed = parsePipeline(
    `type: Workflow
params:
  day: date
  at: datetime
  amount: {type: decimal, default: 0}
  cents: {type: decimal, precision: 2, default: '1'}
  env: {type: choice, options: [dev, prod]}
  n: {type: choice, options: [1, 2]}
  items: array
jobs:
  a:
    runs-on: {with: {image: x}}
`,
    'p.yml',
    '/'
  )
  const now = new Date('2026-12-07T22:08:29.5Z')

  it('gives dates the run start, a choice its first option, an array [], as ddeutil does', () => {
    expect(resolveParams(typed, {}, now)).toEqual({
      day: '2026-12-07',
      at: '2026-12-07 22:08:29.500000+00:00',
      amount: '0.000000',
      cents: '1.00',
      env: 'dev',
      n: 1,
      items: []
    })
  })

  it.each([
    [{ day: '2024-02-29' }, { day: '2024-02-29' }],
    [{ day: '2024-02-29T10:00:00' }, { day: '2024-02-29' }],
    [{ at: '2024-03-09T07:05:02' }, { at: '2024-03-09 07:05:02+00:00' }],
    [{ at: '2024-03-09 07:05' }, { at: '2024-03-09 07:05:00+00:00' }],
    [{ amount: '1.5' }, { amount: '1.500000' }],
    [{ amount: 2 }, { amount: '2.000000' }],
    [{ cents: '0.125' }, { cents: '0.12' }],
    [{ cents: '0.135' }, { cents: '0.14' }],
    [{ cents: '-1e-3' }, { cents: '0.00' }],
    [{ cents: '12.3e1' }, { cents: '123.00' }],
    [{ env: 'prod' }, { env: 'prod' }],
    [{ n: '2' }, { n: 2 }],
    [{ items: 'a, b' }, { items: ['a', 'b'] }]
  ])('reads %j', (given, expected) => {
    expect(resolveParams(typed, given, now)).toMatchObject(expected)
  })

  it.each([
    [{ day: '2024-02-30' }, 'param \'day\': expected a date, YYYY-MM-DD, got "2024-02-30"'],
    [
      { at: 'tomorrow' },
      'param \'at\': expected a date and time, YYYY-MM-DDTHH:MM:SS, got "tomorrow"'
    ],
    [{ amount: '1,5' }, 'param \'amount\': expected a decimal number, got "1,5"'],
    [{ env: 'staging' }, 'param \'env\': expected one of "dev", "prod", got "staging"']
  ])('refuses %j', (given, message) => {
    expect(() => resolveParams(typed, given, now)).toThrow(new InputError(message))
  })

  it('refuses a choice without options at its line', () => {
    expect(() => parsePipeline('params:\n  env: {type: choice}\njobs: {}\n', 'p.yml', '/')).toThrow(
      "p.yml:2:3: params.env: a 'choice' param needs 'options:'"
    )
  })

  it('refuses, in a ddeutil workflow, a param with no value that ddeutil would render as None', () => {
    const file = parsePipeline(
      'type: Workflow\nparams:\n  name: str\njobs:\n  a:\n    runs-on: {with: {image: x}}\n',
      'p.yml',
      '/'
    )
    expect(() => resolveParams(file, {})).toThrow(
      new InputError(
        "param 'name' has no value and no default: give it with --param name=VALUE (ddeutil-workflow would render it as None)"
      )
    )
  })
})
