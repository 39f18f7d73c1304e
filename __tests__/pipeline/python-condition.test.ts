import { ExpressionError, expressionScope } from '../../src/pipeline/expression.js'
import { evaluatePython } from '../../src/pipeline/python-condition.js'
import { pythonCondition, render } from '../../src/pipeline/template.js'

describe('evaluatePython: the Python a ddeutil condition may be, as Python reads it', () => {
  it.each<[string, unknown]>([
    ['1 == 1', true],
    ["'1' == 1", false],
    ['True == 1', true],
    ['1 != 2', true],
    ['1 < 2 < 3', true],
    ['3 > 2 > 2', false],
    ["'abc' < 'abd'", true],
    ['2 in [1, 2, 3]', true],
    ["'x' not in 'abc'", true],
    ['None is None', true],
    ['0 is not None', true],
    ['not 0', true],
    ['not 1 == 2', true],
    ['1 and 0', 0],
    ['0 or []', []],
    ["'' or 'fallback'", 'fallback'],
    ['(1 == 1) and (2 == 2 or 3 == 4)', true],
    ["True or 1 < 'a'", true],
    ["False and 1 < 'a'", false],
    ['-1 < 0', true],
    ['[1, [2]] == [1, [2]]', true],
    ["\"it's\" == 'it\\'s'", true]
  ])('%s gives %j', (source, value) => {
    expect(evaluatePython(source)).toEqual(value)
  })

  it.each([
    [
      '__import__("os")',
      "'__import__(\"os\")' is not a condition ddeutil-workflow's Python would read here: '__import__' where a value belongs at column 1 (comparisons, and, or, not, in, and literals only)"
    ],
    [
      'x == 1',
      "'x == 1' is not a condition ddeutil-workflow's Python would read here: 'x' where a value belongs at column 1 (comparisons, and, or, not, in, and literals only)"
    ],
    [
      '1 == ',
      "'1 == ' is not a condition ddeutil-workflow's Python would read here: the end where a value belongs at column 6 (comparisons, and, or, not, in, and literals only)"
    ],
    ["1 < 'a'", "'1 < 'a'': 1 < 'a' is a TypeError in Python"],
    ['1 in 2', "'1 in 2': 1 in 2 is a TypeError in Python"]
  ])('refuses %s', (source, message) => {
    expect(() => evaluatePython(source)).toThrow(new ExpressionError(message))
  })
})

describe('pythonCondition: rendered as ddeutil renders, then read as Python', () => {
  const scope = expressionScope({ matrix: { sleep: 1, on: true, tags: ['a', 'b'], name: 'x' } })
  it.each<[string, boolean]>([
    ['${{ matrix.sleep }} == 1', true],
    ['${{ matrix.on }}', true],
    ["'b' in ${{ matrix.tags }}", true],
    ["'${{ matrix.name }}' == 'x'", true]
  ])('%s is %s', (condition, expected) => {
    expect(pythonCondition(condition, scope)).toBe(expected)
  })

  it('writes values as Python does', () => {
    expect(render('${{ matrix.on }} ${{ matrix.tags }}', scope, { variables: 'ddeutil' })).toBe(
      "True ['a', 'b']"
    )
  })

  it('refuses a condition that gives no bool', () => {
    expect(() => pythonCondition('${{ matrix.sleep }}', scope)).toThrow(
      "'${{ matrix.sleep }}' gives 1, not True or False (a condition in ddeutil-workflow's form, if: or until:, must give a bool)"
    )
  })
})
