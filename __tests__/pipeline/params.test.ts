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
