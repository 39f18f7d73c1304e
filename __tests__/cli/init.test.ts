import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { main } from '../../src/cli/cli-main.js'
import { initFiles, SCHEMA_URL } from '../../src/cli/init.js'

/** Runs the command line in `dir`; what it wrote to stdout and stderr, and its exit status. */
async function cliIn(dir: string, ...args: string[]) {
  let stdout = ''
  let stderr = ''
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  })
  const before = process.cwd()
  process.chdir(dir)
  try {
    const status = await main(['node', 'ctr-pipeline', ...args])
    return { status, stdout, stderr }
  } finally {
    process.chdir(before)
    jest.restoreAllMocks()
  }
}

afterEach(() => {
  jest.restoreAllMocks()
})

describe('ctr-pipeline init', () => {
  it('writes a starter pipeline with the schema line and a workflow, and the pipeline validates', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctr-init-'))
    expect(await cliIn(dir, 'init')).toMatchObject({
      status: 0,
      stdout:
        'wrote ctr-pipeline.yml\nwrote .github/workflows/ctr-pipeline.yml\nnext: ctr-pipeline run (here), or push to run the workflow\n'
    })
    const pipeline = readFileSync(path.join(dir, 'ctr-pipeline.yml'), 'utf8')
    expect(pipeline.split('\n')[0]).toBe(`# yaml-language-server: $schema=${SCHEMA_URL}`)
    expect(pipeline).toBe(initFiles('alpine:3.20')[0].text)
    // `validate` with no file finds it: the default file name.
    expect(await cliIn(dir, 'validate')).toMatchObject({ status: 0 })
  })

  it('refuses to overwrite, naming what is there, and writes nothing; --force replaces', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctr-init-'))
    writeFileSync(path.join(dir, 'ctr-pipeline.yml'), 'mine\n')
    expect(await cliIn(dir, 'init', '--image', 'busybox:1.36')).toEqual({
      status: 2,
      stdout: '',
      stderr: 'init: ctr-pipeline.yml already there: nothing written (--force replaces)\n'
    })
    expect(readFileSync(path.join(dir, 'ctr-pipeline.yml'), 'utf8')).toBe('mine\n')
    expect((await cliIn(dir, 'init', '--image', 'busybox:1.36', '--force')).status).toBe(0)
    expect(readFileSync(path.join(dir, 'ctr-pipeline.yml'), 'utf8')).toBe(
      initFiles('busybox:1.36')[0].text
    )
  })
})
