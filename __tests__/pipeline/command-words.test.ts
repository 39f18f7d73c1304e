import { renderWords, splitWords, valueRenderers } from '../../src/pipeline/command-words.js'
import { expressionScope } from '../../src/pipeline/expression.js'

describe('splitWords', () => {
  it.each<[unknown, string[] | undefined]>([
    ['pytest -q tests', ['pytest', '-q', 'tests']],
    ['  echo   two  ', ['echo', 'two']],
    ['echo \'two words\' "and three words"', ['echo', 'two words', 'and three words']],
    ['--name="a b" x', ['--name=a b', 'x']],
    ["''", ['']],
    ['echo {{ params.word }}', ['echo', '{{ params.word }}']],
    ['echo pre{{ params.word }}post tail', ['echo', 'pre{{ params.word }}post', 'tail']],
    ["echo {{ format('{0} {1}', 'a', 'b') }}", ['echo', "{{ format('{0} {1}', 'a', 'b') }}"]],
    ["echo '{{ params.word }} x'", ['echo', '{{ params.word }} x']],
    ['echo {{ unclosed', ['echo', '{{ unclosed']],
    ["echo 'unclosed", ['echo', "'unclosed"]],
    [
      ['python', 3, true, null],
      ['python', '3', 'true']
    ],
    [42, undefined],
    [undefined, undefined]
  ])('%j', (value, words) => {
    expect(splitWords(value)).toEqual(words)
  })
})

describe('renderWords', () => {
  const scope = expressionScope({
    params: { word: 'hi there', args: ['-k', 'fast', 3], flag: '--x' },
    needs: { a: { result: 'success', outputs: { list: ['1'] } } }
  })
  const renderers = valueRenderers(scope, { deferred: new Set(['needs']) })
  it.each<[string[], string[]]>([
    [
      ['echo', '{{ params.word }}'],
      ['echo', 'hi there']
    ],
    [
      ['pytest', '{{ params.args }}', 'tail'],
      ['pytest', '-k', 'fast', '3', 'tail']
    ],
    [
      ['pytest', ' {{ params.args }} '],
      ['pytest', '-k', 'fast', '3']
    ],
    [['x={{ params.args }}'], ['x=["-k","fast",3]']],
    [['{{ params.flag }}'], ['--x']],
    [["{{ fromJSON('[]') }}"], []],
    [['{{ needs.a.outputs.list }}'], ['{{ needs.a.outputs.list }}']]
  ])('%j', (words, rendered) => {
    expect(renderers.renderWords(words)).toEqual(rendered)
  })

  it('renders each word the caller way when nothing is a list', () => {
    expect(renderWords(['a', '{{ params.flag }}'], scope, (w) => `<${w}>`)).toEqual([
      '<a>',
      '<{{ params.flag }}>'
    ])
  })
})
