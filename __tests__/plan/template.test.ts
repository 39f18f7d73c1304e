import { parsePath, render, TemplateError } from '../../src/plan/template.js'

const context = {
  params: { dataset: 'sales', n: 3, tags: ['a', 'b'] },
  run_id: 'r1',
  needs: { prep: { outputs: { rows: '5', 'odd-key': 'x' } } },
  stages: { count: { outputs: {} } }
}

describe('render', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{{ params.dataset }}', 'sales'],
    ['{{params.dataset}}.csv', 'sales.csv'],
    ['n={{ params.n }}', 'n=3'],
    ['{{ params.tags }}', '["a","b"]'],
    ['run {{ run_id }}', 'run r1'],
    ['{{ needs.prep.outputs.rows }} rows', '5 rows'],
    ["{{ needs.prep.outputs['odd-key'] }}", 'x'],
    ['{{ stages.count.outputs.missing }}', ''],
    ['${HOME} stays for the shell', '${HOME} stays for the shell']
  ])('%s -> %s', (text, expected) => expect(render(text, context)).toBe(expected))

  it.each([
    ['{{ params.nope }}', "params has no 'nope'"],
    ['{{ nope }}', "expressions has no 'nope'"],
    ['{{ needs.other.outputs.x }}', "needs has no 'other'"],
    ['{{ params.dataset', "unclosed '{{'"],
    ['{{ }}', 'empty expression'],
    ['{{ params dataset }}', "unexpected ' '"]
  ])('%s is refused: %s', (text, message) => {
    expect(() => render(text, context)).toThrow(TemplateError)
    expect(() => render(text, context)).toThrow(message)
  })

  describe('with an environment', () => {
    const env = { API_KEY: 'k3y', EMPTY: '' }
    it.each([
      ['${API_KEY}', 'k3y'],
      ['a${API_KEY}b', 'ak3yb'],
      ['$${API_KEY}', '${API_KEY}'],
      ['${EMPTY}-', '-'],
      ['$API_KEY', '$API_KEY'],
      ['{{ params.dataset }}/${API_KEY}', 'sales/k3y']
    ])('%s -> %s', (text, expected) => expect(render(text, context, { env })).toBe(expected))

    it('renders an unset variable empty and says so', () => {
      const missing: string[] = []
      expect(render('x${NOPE}y', context, { env, onMissingVar: (n) => missing.push(n) })).toBe('xy')
      expect(missing).toEqual(['NOPE'])
    })

    it('refuses ${ without a name', () => {
      expect(() => render('${1x}', context, { env })).toThrow("'${' must be followed by NAME}")
    })
  })
})

describe('parsePath', () => {
  it.each([
    ['a', ['a']],
    ['a.b.c', ['a', 'b', 'c']],
    ["a['b.c'].d", ['a', 'b.c', 'd']],
    ['a["x"]', ['a', 'x']],
    ['job-1.outputs', ['job-1', 'outputs']]
  ])('%s', (expression, segments) => expect(parsePath(expression)).toEqual(segments))
})
