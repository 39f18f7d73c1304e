import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { malformedLine, readEnvFiles } from '../../src/cli/env-files.js'
import { secretValues } from '../../src/pipeline/secret-values.js'

const dir = mkdtempSync(path.join(tmpdir(), 'ctr-env-files-'))

/** Writes a file into the test's folder; its path. */
function file(name: string, text: string): string {
  const at = path.join(dir, name)
  writeFileSync(at, text)
  return at
}

describe('malformedLine', () => {
  it.each<[string, string, { line: number; col: number } | undefined]>([
    [
      'plain, export, colon, empty and commented lines',
      'A=1\nexport B=2\nC: 3\nD=\n# x\n\n',
      undefined
    ],
    [
      'a quoted value over several lines',
      'KEY="line one\nline two\n  = not a line of its own"\nB=2',
      undefined
    ],
    ['single quotes and backticks', "A='x'\nB=`y`\nC='multi\nline'", undefined],
    ['a word alone', 'A=1\n  oops\n', { line: 2, col: 3 }],
    ['a value without a name', 'A=1\nB=2\n=value', { line: 3, col: 1 }],
    ['a colon without a space is not dotenv', 'URL:http://x', { line: 1, col: 1 }],
    ['CRLF lines are counted as lines', 'A=1\r\nB=2\r\nbad\r\n', { line: 3, col: 1 }]
  ])('%s', (_name, text, expected) => {
    expect(malformedLine(text)).toEqual(expected)
  })
})

describe('readEnvFiles', () => {
  it('reads files in order, a later value winning, with dotenv quoting', async () => {
    const first = file('first.env', 'A=1\nB="two words"\nexport C=\'$NOT_EXPANDED\'\n')
    const second = file('second.env', 'B=override # a comment\nD="multi\nline"\n')
    expect(await readEnvFiles([first, second], '--env-file')).toEqual({
      A: '1',
      B: 'override',
      C: '$NOT_EXPANDED',
      D: 'multi\nline'
    })
  })

  it.each<[string, string, string]>([
    [
      'a missing file',
      'missing.env',
      `--secret-file ${dir}/missing.env: cannot read it (no such file)`
    ],
    ['a folder', '.', `--secret-file ${dir}: cannot read it (it is a folder)`]
  ])('%s is a usage error naming the flag and the file', async (_name, name, message) => {
    await expect(readEnvFiles([path.join(dir, name)], '--secret-file')).rejects.toThrow(message)
  })

  it('a line that sets nothing is named by file, line and column, its text not shown', async () => {
    const bad = file('bad.env', 'TOKEN=ok\nhunter2-is-the-password\n')
    const error = await readEnvFiles([bad], '--secret-file').catch((e: unknown) => e as Error)
    expect((error as Error).message).toBe(
      `--secret-file ${bad}:2:1: expected NAME=value, a # comment or a blank line`
    )
  })
})

describe('secretValues with a secret file', () => {
  it.each<[string, string[], Record<string, string>, string[], string[]]>([
    [
      'a name from a secret file is masked though the pipeline does not use it',
      [],
      { DB: 'pa55word' },
      ['DB'],
      ['pa55word']
    ],
    [
      'even a name the runner sets plainly',
      ['HOME'],
      { HOME: '/home/runner' },
      ['HOME'],
      ['/home/runner']
    ],
    ['without the secret file, HOME is not masked', ['HOME'], { HOME: '/home/runner' }, [], []],
    [
      'a multi-line secret is masked whole and line by line',
      [],
      { K: 'first-line\nsecond-line' },
      ['K'],
      ['first-line\nsecond-line', 'first-line', 'second-line']
    ]
  ])('%s', (_name, names, env, secretNames, expected) => {
    expect(secretValues(names, env, secretNames)).toEqual(expected)
  })
})
