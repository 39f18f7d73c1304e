import { matchChangedFiles, parseChangedFiles } from '../../src/plan/changed-files.js'

const changed = [
  'data/sales.csv',
  'data/2024/q1.csv',
  'src/app.ts',
  '.github/workflows/ci.yml',
  'README.md'
]

describe('matchChangedFiles', () => {
  it.each([
    [['data/**'], ['data/sales.csv', 'data/2024/q1.csv']],
    [['data/*.csv'], ['data/sales.csv']],
    [['**/*.csv'], ['data/sales.csv', 'data/2024/q1.csv']],
    [['**/*.csv', '!data/2024/**'], ['data/sales.csv']],
    [['!**/*.csv'], ['src/app.ts', '.github/workflows/ci.yml', 'README.md']],
    [['.github/**'], ['.github/workflows/ci.yml']],
    [['./src/*.ts'], ['src/app.ts']],
    [['docs/**'], []],
    [
      ['README.md', 'src/**'],
      ['src/app.ts', 'README.md']
    ]
  ])('%j', (globs, expected) => expect(matchChangedFiles(globs, changed)).toEqual(expected))

  it('matches nothing when nothing changed', () => {
    expect(matchChangedFiles(['**'], [])).toEqual([])
  })
})

describe('parseChangedFiles', () => {
  it.each([
    ['', []],
    ['a.csv\nb/c.csv\n', ['a.csv', 'b/c.csv']],
    ['a.csv\r\n\r\n  b.csv  \n', ['a.csv', 'b.csv']]
  ])('%j', (text, expected) => expect(parseChangedFiles(text)).toEqual(expected))
})
