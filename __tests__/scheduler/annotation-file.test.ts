import {
  MAX_ANNOTATIONS_PER_STAGE,
  parseAnnotationFile
} from '../../src/scheduler/annotation-file.js'

describe('parseAnnotationFile', () => {
  it.each([
    ['', []],
    ['::error::plain\n', [{ level: 'error', message: 'plain' }]],
    [
      '::warning file=data/sales.csv,line=12,col=3,endLine=14,endColumn=9,title=Bad row::price is empty\n',
      [
        {
          level: 'warning',
          message: 'price is empty',
          file: 'data/sales.csv',
          line: 12,
          col: 3,
          end_line: 14,
          end_col: 9,
          title: 'Bad row'
        }
      ]
    ],
    [
      '::notice file=a.csv::two%0Alines 100%25\r\n',
      [{ level: 'notice', message: 'two\nlines 100%', file: 'a.csv' }]
    ],
    ['::error title=a%2Cb%3Ac::m\n', [{ level: 'error', message: 'm', title: 'a,b:c' }]],
    // A line number that is not a whole number is left out rather than guessed.
    ['::error file=a.csv,line=x::m\n', [{ level: 'error', message: 'm', file: 'a.csv' }]],
    ['::error unknown=1,file=a.csv::m\n', [{ level: 'error', message: 'm', file: 'a.csv' }]],
    [
      '\n\n::error::a\n\n::warning::b',
      [
        { level: 'error', message: 'a' },
        { level: 'warning', message: 'b' }
      ]
    ]
  ])('%j', (text, expected) => {
    expect(parseAnnotationFile(text)).toEqual({ annotations: expected, problems: [] })
  })

  it.each([
    ['error file=a::m', 'line 1 is not'],
    ['::debug::m', 'line 1 is not'],
    ['::error::ok\n::add-mask::x', 'line 2 is not']
  ])('reports %j as a problem, not a failure', (text, problem) => {
    expect(parseAnnotationFile(text).problems).toEqual([expect.stringContaining(problem)])
  })

  it(`keeps the first ${MAX_ANNOTATIONS_PER_STAGE} and counts the rest`, () => {
    const text = Array.from({ length: 60 }, (_, i) => `::error::row ${i}`).join('\n')
    const { annotations, problems } = parseAnnotationFile(text)
    expect(annotations).toHaveLength(MAX_ANNOTATIONS_PER_STAGE)
    expect(annotations.at(-1)?.message).toBe(`row ${MAX_ANNOTATIONS_PER_STAGE - 1}`)
    expect(problems).toEqual(['10 more annotations dropped (at most 50 per stage)'])
  })
})
