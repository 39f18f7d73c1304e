import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { main } from '../../src/cli/cli-main.js'

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
    expect(after.split('\n').slice(2, 8)).toEqual([
      '  ctr-pipeline run pipeline.yml                       run it on the local Docker engine',
      '  ctr-pipeline run pipeline.yml --param dataset=sales --max-parallel 4',
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
