import { ExpressionError } from './expression.js'
import { pythonRepr } from './python-values.js'

type Value = null | boolean | number | string | Value[]

interface Token {
  kind: 'number' | 'string' | 'name' | 'op' | 'end'
  text: string
  value?: Value
  at: number
}

const OPERATORS = ['==', '!=', '<=', '>=', '<', '>', '(', ')', '[', ']', ',', '-', '+']
const WORDS: Record<string, Value> = { True: true, False: false, None: null }

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const c = source[i]
    if (/\s/.test(c)) {
      i += 1
      continue
    }
    const number = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i))
    const name = /^[A-Za-z_]\w*/.exec(source.slice(i))
    const op = OPERATORS.find((o) => source.startsWith(o, i))
    if (number) {
      tokens.push({ kind: 'number', text: number[0], value: Number(number[0]), at: i })
      i += number[0].length
    } else if (c === "'" || c === '"') {
      let text = ''
      let j = i + 1
      while (j < source.length && source[j] !== c) {
        if (source[j] === '\\' && j + 1 < source.length) j += 1
        text += source[j]
        j += 1
      }
      if (j >= source.length) throw problem(source, i, 'a string that is not closed')
      tokens.push({ kind: 'string', text: source.slice(i, j + 1), value: text, at: i })
      i = j + 1
    } else if (name) {
      tokens.push({ kind: 'name', text: name[0], at: i })
      i += name[0].length
    } else if (op) {
      tokens.push({ kind: 'op', text: op, at: i })
      i += op.length
    } else throw problem(source, i, `'${c}'`)
  }
  tokens.push({ kind: 'end', text: '', at: source.length })
  return tokens
}

function problem(source: string, at: number, what: string): ExpressionError {
  return new ExpressionError(
    `'${source}' is not a condition ddeutil-workflow's Python would read here: ${what} at column ${at + 1} (comparisons, and, or, not, in, and literals only)`
  )
}

/**
 * Evaluates a condition in ddeutil-workflow's form, once its templates are rendered
 * (`'1' == 1`, `2 in [1, 2] and not False`) as Python would: literals (numbers, strings,
 * True, False, None, lists), comparisons (chained as in Python), `in`, `not in`, `is`,
 * `is not`, `and`, `or`, `not`, unary minus and parentheses. It never runs code: anything
 * else is an ExpressionError saying where.
 */
export function evaluatePython(source: string): Value {
  const tokens = tokenize(source)
  let pos = 0
  const peek = () => tokens[pos]
  const next = () => tokens[pos++]
  const isWord = (word: string) => peek().kind === 'name' && peek().text === word
  const expect = (text: string) => {
    if (peek().text !== text) throw problem(source, peek().at, `'${text}' expected`)
    next()
  }

  // Each rule returns how to evaluate what it read: `and` and `or` evaluate their right
  // side only when Python would, so `True or 1 < 'a'` is True, not a TypeError.
  type Thunk = () => Value
  const logical = (word: 'and' | 'or', operand: () => Thunk): Thunk => {
    let left = operand()
    while (isWord(word)) {
      next()
      const [a, b] = [left, operand()]
      left = () => {
        const value = a()
        return truthy(value) === (word === 'or') ? value : b()
      }
    }
    return left
  }
  const orExpr = (): Thunk => logical('or', andExpr)
  const andExpr = (): Thunk => logical('and', notExpr)
  const notExpr = (): Thunk => {
    if (isWord('not')) {
      next()
      const operand = notExpr()
      return () => !truthy(operand())
    }
    return comparison()
  }
  const comparison = (): Thunk => {
    const first = unary()
    const links: Array<[string, Thunk]> = []
    for (let op = comparisonOperator(); op; op = comparisonOperator()) links.push([op, unary()])
    if (links.length === 0) return first
    return () => {
      let left = first()
      for (const [op, operand] of links) {
        const right = operand()
        if (!compare(op, left, right, source)) return false
        left = right
      }
      return true
    }
  }
  const comparisonOperator = (): string | undefined => {
    const token = peek()
    if (token.kind === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(token.text))
      return next().text
    if (isWord('in')) return (next(), 'in')
    if (isWord('is')) {
      next()
      if (isWord('not')) return (next(), 'is not')
      return 'is'
    }
    if (isWord('not') && tokens[pos + 1]?.text === 'in') {
      pos += 2
      return 'not in'
    }
    return undefined
  }
  const unary = (): Thunk => {
    if (peek().text === '-' || peek().text === '+') {
      const sign = next()
      const operand = unary()
      return () => {
        const value = operand()
        if (typeof value !== 'number')
          throw problem(source, sign.at, `'${sign.text}' before a value that is not a number`)
        return sign.text === '-' ? -value : value
      }
    }
    return atom()
  }
  const atom = (): Thunk => {
    const token = next()
    if (token.kind === 'number' || token.kind === 'string') return () => token.value!
    if (token.kind === 'name' && token.text in WORDS) return () => WORDS[token.text]
    if (token.text === '(') {
      const inner = orExpr()
      expect(')')
      return inner
    }
    if (token.text === '[') {
      const items: Thunk[] = []
      while (peek().text !== ']') {
        items.push(orExpr())
        if (peek().text !== ',') break
        next()
      }
      expect(']')
      return () => items.map((item) => item())
    }
    const what = token.kind === 'end' ? 'the end' : `'${token.text}'`
    throw problem(source, token.at, `${what} where a value belongs`)
  }

  const parsed = orExpr()
  if (peek().kind !== 'end') throw problem(source, peek().at, `'${peek().text}'`)
  return parsed()
}

/** Python's truth: False, None, 0, '' and [] are false. */
function truthy(value: Value): boolean {
  return !(
    value === false ||
    value === null ||
    value === 0 ||
    value === '' ||
    (Array.isArray(value) && value.length === 0)
  )
}

function compare(op: string, a: Value, b: Value, source: string): boolean {
  switch (op) {
    case '==':
      return equal(a, b)
    case '!=':
      return !equal(a, b)
    case 'is':
      return a === b && (a === null || typeof a === 'boolean')
    case 'is not':
      return !(a === b && (a === null || typeof a === 'boolean'))
    case 'in':
    case 'not in': {
      let found: boolean
      if (Array.isArray(b)) found = b.some((item) => equal(item, a))
      else if (typeof b === 'string' && typeof a === 'string') found = b.includes(a)
      else
        throw new ExpressionError(
          `'${source}': ${pythonRepr(a)} ${op} ${pythonRepr(b)} is a TypeError in Python`
        )
      return op === 'in' ? found : !found
    }
    default: {
      const comparable =
        (typeof a === 'number' || typeof a === 'boolean') &&
        (typeof b === 'number' || typeof b === 'boolean')
      if (!comparable && !(typeof a === 'string' && typeof b === 'string'))
        throw new ExpressionError(
          `'${source}': ${pythonRepr(a)} ${op} ${pythonRepr(b)} is a TypeError in Python`
        )
      const [x, y] = comparable ? [Number(a), Number(b)] : [a as string, b as string]
      return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y
    }
  }
}

/** Python's `==`: True == 1, lists item by item, no other coercion. */
function equal(a: Value, b: Value): boolean {
  if (Array.isArray(a) || Array.isArray(b))
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => equal(item, b[i]))
    )
  const numeric = (v: Value) => typeof v === 'number' || typeof v === 'boolean'
  if (numeric(a) && numeric(b)) return Number(a) === Number(b)
  return a === b
}
