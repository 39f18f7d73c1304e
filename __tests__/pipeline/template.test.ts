import { ExpressionError, expressionScope } from '../../src/pipeline/expression.js'
import {
  conditionSource,
  evaluateCondition,
  evaluateValue,
  render,
  templateProblems
} from '../../src/pipeline/template.js'

const scope = expressionScope({
  params: { dataset: 'sales', n: 3, tags: ['a', 'b'], empty: '', json: '["x","y"]' },
  run_id: 'r1',
  matrix: { image: 'python:3.11', shard: 2 },
  job: { id: 'report', instance: 'report (python:3.11, 2)' },
  needs: {
    prep: { result: 'success', outputs: { rows: '5', 'odd-key': 'x' } },
    test: { result: 'failure', outputs: { code: ['0', '1'] } }
  },
  stages: { count: { result: 'success', outputs: {} } }
})

describe('render', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{{ params.dataset }}', 'sales'],
    ['{{params.dataset}}.csv', 'sales.csv'],
    ['n={{ params.n }}', 'n=3'],
    ['{{ params.tags }}', '["a","b"]'],
    ['run {{ run_id }}', 'run r1'],
    ['{{ matrix.image }}-{{ matrix.shard }}', 'python:3.11-2'],
    ['{{ job.id }} / {{ job.instance }}', 'report / report (python:3.11, 2)'],
    ['{{ needs.prep.outputs.rows }} rows', '5 rows'],
    ["{{ needs.prep.outputs['odd-key'] }}", 'x'],
    ['{{ needs.test.outputs.code[1] }}', '1'],
    ['{{ stages.count.outputs.missing }}', ''],
    ['{{ toJSON(needs.test.outputs.code) }}', '[\n  "0",\n  "1"\n]'],
    ["{{ default(params.empty, 'fallback') }}", 'fallback'],
    ["{{ default(params.dataset, 'fallback') }}", 'sales'],
    ["{{ format('{0}-{1}', params.dataset, params.n) }}", 'sales-3'],
    ["{{ contains(params.tags, 'b') }}", 'true'],
    ["{{ params.n > 2 && 'big' || 'small' }}", 'big'],
    ["{{ join(params.tags, '+') }}", 'a+b'],
    ['${HOME} stays for the shell', '${HOME} stays for the shell']
  ])('%s -> %s', (text, expected) => expect(render(text, scope)).toBe(expected))

  it.each([
    ['{{ params.dataset', "unclosed '{{'"],
    ['{{ }}', 'the expression is empty'],
    ['{{ params dataset }}', "Unexpected symbol: 'dataset'"],
    ['{{ nope.x }}', "Unrecognized named-value: 'nope'"],
    ['{{ nofunction(1) }}', "Unrecognized function: 'nofunction'"],
    ["{{ 'unclosed }}", 'Unexpected symbol']
  ])('%s is refused: %s', (text, message) => {
    expect(() => render(text, scope)).toThrow(ExpressionError)
    expect(() => render(text, scope)).toThrow(message)
  })

  it('keeps expressions on deferred contexts as written (plan shows them)', () => {
    const deferred = new Set(['needs', 'run_id'])
    expect(render('{{ params.n }}:{{ needs.prep.outputs.rows }}', scope, { deferred })).toBe(
      '3:{{ needs.prep.outputs.rows }}'
    )
  })

  describe('with ${VAR}', () => {
    const env = { API_KEY: 'k3y', EMPTY: '' }
    const options = { variables: true, env }
    it.each([
      ['${API_KEY}', 'k3y'],
      ['a${API_KEY}b', 'ak3yb'],
      ['$${API_KEY}', '${API_KEY}'],
      ['${EMPTY}-', '-'],
      ['$API_KEY', '$API_KEY'],
      ['{{ params.dataset }}/${API_KEY}', 'sales/k3y']
    ])('%s -> %s', (text, expected) => expect(render(text, scope, options)).toBe(expected))

    it('renders an unset variable empty and says so', () => {
      const missing: string[] = []
      const onMissingVar = (n: string) => missing.push(n)
      expect(render('x${NOPE}y', scope, { ...options, onMissingVar })).toBe('xy')
      expect(missing).toEqual(['NOPE'])
    })

    it('refuses ${ without a name', () => {
      expect(() => render('${1x}', scope, options)).toThrow("'${' must be followed by NAME}")
    })
  })
})

describe('evaluateValue', () => {
  it.each([
    ['{{ params.tags }}', ['a', 'b']],
    ['{{ fromJSON(params.json) }}', ['x', 'y']],
    ['{{ params.n }}', 3],
    ['n{{ params.n }}', 'n3']
  ])('%s keeps its type when it is one expression', (text, expected) => {
    expect(evaluateValue(text, scope)).toEqual(expected)
  })
})

describe('conditions', () => {
  const ok = { success: true, failure: false, cancelled: false }
  const failed = { success: false, failure: true, cancelled: false }
  const cancelled = { success: true, failure: false, cancelled: true }
  it.each<[string | boolean | undefined, typeof ok, boolean]>([
    [undefined, ok, true],
    [undefined, failed, false],
    [true, failed, false],
    [false, ok, false],
    ['always()', failed, true],
    ['always()', cancelled, true],
    ['failure()', failed, true],
    ['failure()', ok, false],
    ['success()', cancelled, false],
    ['cancelled()', cancelled, true],
    ["params.dataset == 'sales'", ok, true],
    ["params.dataset == 'sales'", failed, false],
    ["{{ params.dataset == 'SALES' }}", ok, true],
    ["failure() && needs.test.result == 'failure'", failed, true],
    ['matrix.shard >= 3', ok, false],
    ["!contains(params.tags, 'c')", ok, true]
  ])('%s given %o -> %s', (condition, outcome, expected) => {
    expect(evaluateCondition(condition, scope, outcome)).toBe(expected)
  })

  it.each([
    ['params.x', 'success() && (params.x)'],
    ['{{ always() }}', 'always()'],
    ['failure() || params.x', 'failure() || params.x']
  ])('%s is read as %s', (text, expected) => expect(conditionSource(text)).toBe(expected))
})

describe("${{ }}: GitHub's and ddeutil-workflow's spelling of the same expression", () => {
  const dates = expressionScope({
    params: {
      name: 'world',
      day: '2024-03-09',
      at: '2024-03-09T07:05:02',
      n: -4,
      text: '42',
      list: ['a', 'b', 'c'],
      map: { x: 1, 'y-z': 'two' },
      nothing: null,
      words: "it's a dog's life"
    }
  })
  it.each([
    ['echo "hello ${{ params.name }}"', 'echo "hello world"'],
    ['${{params.name}}{{ params.name }}', 'worldworld'],
    ['$${{ params.name }}', '$world'],
    ['${{ params.name | upper }}', 'WORLD'],
    ['${{ params.name | upper | lower }}', 'world'],
    ['${{ params.words | title }}', "It'S A Dog'S Life"],
    ["${{ params.day | fmt('%Y%m%d') }}", '20240309'],
    ["${{ params.at | fmt('%d/%m/%y %H:%M:%S %a %b %j') }}", '09/03/24 07:05:02 Sat Mar 069'],
    ['${{ params.at | fmt }}', '2024-03-09 07:05:02'],
    ['${{ params.n | abs }}', '4'],
    ['${{ params.text | int }}', '42'],
    ['${{ params.n | str }}', '-4'],
    ['${{ params.name | rstr }}', "'world'"],
    ['${{ params.list | getindex(-1) }}', 'c'],
    ["${{ params.map | getitem('y-z') }}", 'two'],
    ["${{ params.map | getitem('w', 'none') }}", 'none'],
    ['${{ params.map | keys }}', '["x","y-z"]'],
    ['${{ params.map | values }}', '[1,"two"]'],
    ["${{ params.nothing | coalesce('fallback') }}", 'fallback'],
    ["${{ params.name || 'x' | upper }}", 'WORLD'],
    ["{{ '{{' }} literal }}", '{{ literal }}']
  ])('%s renders as %s', (text, expected) => {
    expect(render(text, dates)).toBe(expected)
  })

  it('keeps the value of a lone expression with filters', () => {
    expect(evaluateValue('${{ params.map | keys }}', dates)).toEqual(['x', 'y-z'])
  })

  it.each([
    [
      '${{ params.name | nope }}',
      "'${{ params.name | nope }}': 'nope' is not a filter (known: abs, str, rstr, int, list, dict, title, upper, lower, keys, values, fmt, coalesce, getitem, getindex)"
    ],
    ['${{ params.name | getindex(0) }}', 'filter \'getindex\' takes a list, not "world"'],
    ['${{ params.name | fmt }}', 'filter \'fmt\' takes a date or datetime, not "world"'],
    [
      '${{ params.name | coalesce }}',
      "'${{ params.name | coalesce }}': filter 'coalesce' takes 1 argument, not 0"
    ],
    [
      '${{ params.name | getitem(params.x) }}',
      "'${{ params.name | getitem(params.x) }}': filter 'getitem': 'params.x' is not a constant (a quoted string, a number, True, False or None)"
    ]
  ])('%s is an error: %s', (text, message) => {
    expect(() => render(text, dates)).toThrow(new ExpressionError(message))
  })
})

describe("${VAR} and $$ as ddeutil-workflow's loader reads them", () => {
  const env = { NAME: 'env-name', EMPTY: '' }
  it.each([
    ['echo $$VAR and $$1', 'echo $VAR and $1'],
    ['${NAME}/${ NAME }', 'env-name/env-name'],
    ['${MISSING:fallback}', 'fallback'],
    ['${MISSING}', 'null'],
    ['$1 and $HOME stay', '$1 and $HOME stay'],
    ['${{ params.name }} $${NAME}', 'world ${NAME}']
  ])('%s renders as %s', (text, expected) => {
    const scope = expressionScope({ params: { name: 'world' } })
    expect(render(text, scope, { variables: 'ddeutil', env })).toBe(expected)
  })

  it("keeps the product's own rule elsewhere: $$ is not special, $${ is the escape", () => {
    const scope = expressionScope({})
    expect(render('$$ $${NAME} ${NAME}', scope, { variables: true, env })).toBe(
      '$$ ${NAME} env-name'
    )
  })
})

describe('templateProblems: every broken part of a value, each where it starts', () => {
  it('reports each, in order, and goes on past the first', () => {
    const text =
      'a {{ params.x }} b ${{ 1 + }} c {{ params.ok }} d ${{ params.x | nope }}\n{{ unclosed'
    expect(templateProblems(text)).toEqual([
      { at: 19, written: '${{ 1 + }}', message: "'${{ 1 + }}': Unexpected symbol: '+'" },
      {
        at: 50,
        written: '${{ params.x | nope }}',
        message: expect.stringMatching(/^'\$\{\{ params\.x \| nope \}\}': 'nope' is not a filter/)
      },
      { at: 73, written: '{{', message: "unclosed '{{' in '{{ unclosed'" }
    ])
  })
})
