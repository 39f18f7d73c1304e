import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { main } from '../../src/cli/cli-main.js'
import { DEFAULT_FILES, pipelineFileArg } from '../../src/cli/default-file.js'
import { InputError } from '../../src/pipeline/input-error.js'

const manifest = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')
) as { version: string }

/** Runs the command line in this process; what it wrote to stdout, and its exit status. */
async function cli(...args: string[]): Promise<{ status: number; stdout: string }> {
  let stdout = ''
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  const status = await main(['node', 'ctr-pipeline', ...args])
  return { status, stdout }
}

afterEach(() => {
  jest.restoreAllMocks()
})

describe('the command line, as people expect one to behave', () => {
  it.each([['--version'], ['-V']])(
    '%s prints the version from package.json and exits 0',
    async (flag) => {
      expect(await cli(flag)).toEqual({ status: 0, stdout: `${manifest.version}\n` })
    }
  )

  it('--help ends with examples, the exit statuses and where the documentation is', async () => {
    const { status, stdout } = await cli('--help')
    expect(status).toBe(0)
    const after = stdout.slice(stdout.indexOf('\nExamples:\n'))
    expect(after.split('\n').slice(2, 9)).toEqual([
      '  ctr-pipeline run pipeline.yml                       run it on the local Docker engine',
      '  ctr-pipeline run pipeline.yml --param dataset=sales --max-parallel 4',
      '  ctr-pipeline run pipeline.yml --report report.html  and a page to open in a browser',
      '  ctr-pipeline validate pipeline.yml                  FILE:LINE:COL: message per problem',
      '  ctr-pipeline plan pipeline.yml                      the jobs, instances and order, nothing run',
      '  ctr-pipeline cleanup                                remove what interrupted runs left',
      ''
    ])
    expect(after).toContain(
      'Exit status: 0 success, 1 a job failed, 2 invalid input (file or flags), 3 no engine or engine lost, 130 interrupted.'
    )
    expect(after.trimEnd().split('\n').at(-1)).toBe(
      'Documentation: https://github.com/OWNER/ctr-pipeline#the-command-line'
    )
  })
})

describe('the default pipeline file', () => {
  it.each<[string, string[], string | undefined]>([
    ['the file given wins', ['ctr-pipeline.yml'], 'given.yml'],
    ['ctr-pipeline.yml first', ['pipeline.yml', 'ctr-pipeline.yml'], undefined],
    ['then ctr-pipeline.yaml', ['pipeline.yml', 'ctr-pipeline.yaml'], undefined],
    ['then pipeline.yml', ['pipeline.yaml', 'pipeline.yml'], undefined],
    ['then pipeline.yaml', ['pipeline.yaml'], undefined]
  ])('%s', (_name, present, given) => {
    const dir = '/repo'
    const exists = (file: string) => present.some((name) => file === path.join(dir, name))
    const expected = given ?? DEFAULT_FILES.find((name) => present.includes(name))
    expect(pipelineFileArg(given, dir, exists)).toBe(expected)
  })

  it('none there is a usage error naming what was looked for, and where', () => {
    expect(() => pipelineFileArg(undefined, '/repo', () => false)).toThrow(
      new InputError(
        'no pipeline file given, and none of ctr-pipeline.yml, ctr-pipeline.yaml, pipeline.yml, pipeline.yaml in /repo: name one (ctr-pipeline run FILE)'
      )
    )
  })
})

describe('validate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctr-validate-'))
  const good = path.join(dir, 'ctr-pipeline.yml')
  const bad = path.join(dir, 'bad.yml')
  writeFileSync(
    good,
    'jobs:\n  a:\n    runs-on: {with: {image: busybox}}\n    stages: [{name: s, type: sh, run: "true"}]\n'
  )
  writeFileSync(bad, 'jobs:\n  a:\n    runs-on: {with: {image: busybox}}\n    stagez: []\n')

  it('--json prints every file with its problems at their line and column; exit 2', async () => {
    const { status, stdout } = await cli('validate', '--json', good, bad)
    expect(status).toBe(2)
    const report = JSON.parse(stdout) as {
      valid: boolean
      files: Array<{ file: string; valid: boolean; problems: unknown[] }>
    }
    expect(report.valid).toBe(false)
    expect(report.files.map((f) => [f.file, f.valid])).toEqual([
      [good, true],
      [bad, false]
    ])
    expect(report.files[0].problems).toEqual([])
    expect(report.files[1].problems).toEqual([
      {
        file: bad,
        line: 4,
        col: 5,
        message: "jobs.a: unknown key 'stagez' (did you mean 'stages'?)"
      }
    ])
  })

  it('with no file, validates the first default file of the current folder', async () => {
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      expect(await cli('validate')).toEqual({ status: 0, stdout: 'ctr-pipeline.yml: valid\n' })
    } finally {
      process.chdir(cwd)
    }
  })
})
