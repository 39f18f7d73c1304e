import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { main } from '../../src/cli/cli-main.js'
import { writeInitFiles } from '../../src/cli/init.js'
import {
  linkInWorkspace,
  untrustedFolder,
  writeFileReplacing
} from '../../src/scheduler/host-files.js'

/** A workspace (the fork's checkout) and, beside it, a folder standing for `~/.ssh`. */
function places() {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'ctr-host-')))
  const ws = path.join(root, 'ws')
  const home = path.join(root, 'ssh')
  mkdirSync(ws)
  mkdirSync(home)
  writeFileSync(path.join(home, 'authorized_keys'), 'the owner key\n')
  return { root, ws, home }
}

/** Runs the command line in this process, in `cwd`: its status and what it wrote to stderr. */
async function cli(cwd: string, ...args: string[]) {
  let stderr = ''
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  })
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
  const before = process.cwd()
  process.chdir(cwd)
  try {
    return { status: await main(['node', 'ctr-pipeline', ...args]), stderr }
  } finally {
    process.chdir(before)
  }
}

afterEach(() => {
  jest.restoreAllMocks()
})

describe('writeFileReplacing (item 10)', () => {
  it('replaces a symlink where the file goes, and leaves what it pointed at alone', async () => {
    const { ws, home } = places()
    symlinkSync(path.join(home, 'authorized_keys'), path.join(ws, 'result.json'))
    await writeFileReplacing(path.join(ws, 'result.json'), '{"status":"success"}\n')
    expect(readFileSync(path.join(home, 'authorized_keys'), 'utf8')).toBe('the owner key\n')
    expect(readFileSync(path.join(ws, 'result.json'), 'utf8')).toBe('{"status":"success"}\n')
  })
})

describe('linkInWorkspace and untrustedFolder (items 1, 10)', () => {
  it.each<
    [
      string,
      (p: ReturnType<typeof places>) => string,
      (p: ReturnType<typeof places>) => string | undefined
    ]
  >([
    ['a plain folder', ({ ws }) => path.join(ws, 'ctr-artifacts/a'), () => undefined],
    [
      'a committed link to the instance folder',
      ({ ws, home }) => {
        mkdirSync(path.join(ws, 'ctr-artifacts'))
        symlinkSync(home, path.join(ws, 'ctr-artifacts/a'))
        return path.join(ws, 'ctr-artifacts/a')
      },
      ({ ws }) => path.join(ws, 'ctr-artifacts/a')
    ],
    [
      'a committed link to the artifacts folder, deeper parts missing',
      ({ ws, home }) => {
        symlinkSync(home, path.join(ws, 'ctr-artifacts'))
        return path.join(ws, 'ctr-artifacts/a/b')
      },
      ({ ws }) => path.join(ws, 'ctr-artifacts')
    ],
    [
      "a link above the workspace (the runner's own) is followed",
      ({ root, ws }) => {
        symlinkSync(ws, path.join(root, 'ws-link'))
        return path.join(root, 'ws-link/out')
      },
      () => undefined
    ],
    [
      'a link of the workspace that points inside it',
      ({ ws }) => {
        mkdirSync(path.join(ws, 'real'))
        symlinkSync(path.join(ws, 'real'), path.join(ws, 'out'))
        return path.join(ws, 'out/x')
      },
      ({ ws }) => path.join(ws, 'out')
    ]
  ])('%s', async (_what, make, expected) => {
    const p = places()
    const target = make(p)
    expect(await linkInWorkspace(target, p.ws)).toBe(expected(p))
    const folder = untrustedFolder(target, p.ws)
    if (expected(p)) {
      await expect(folder).rejects.toThrow(`${expected(p)} is a symbolic link inside the workspace`)
      expect(readFileSync(path.join(p.home, 'authorized_keys'), 'utf8')).toBe('the owner key\n')
    } else await expect(folder).resolves.toBeUndefined()
  })
})

describe("the CLI refuses output paths through the checkout's links before it runs (exit 2)", () => {
  const pipeline = `jobs:
  a:
    runs-on: {with: {image: ctr-fixtures/busybox:latest}}
    stages: [{name: s, type: sh, run: 'true'}]
`
  it.each<[string, (ws: string, home: string) => string[], string]>([
    [
      '--artifacts-dir (the default) through a committed link',
      (ws, home) => {
        mkdirSync(path.join(ws, 'ctr-artifacts'))
        symlinkSync(home, path.join(ws, 'ctr-artifacts/a'))
        return []
      },
      '--artifacts-dir WS/ctr-artifacts/a: ctr-artifacts/a is a symbolic link inside the workspace; an untrusted run writes no file through a link the checkout holds (remove it, or write outside the workspace)'
    ],
    [
      '--result in a linked folder',
      (ws, home) => {
        symlinkSync(home, path.join(ws, 'out'))
        return ['--result', 'out/authorized_keys']
      },
      '--result out/authorized_keys: out is a symbolic link inside the workspace; an untrusted run writes no file through a link the checkout holds (remove it, or write outside the workspace)'
    ],
    [
      '--report in a linked folder',
      (ws, home) => {
        symlinkSync(home, path.join(ws, 'out'))
        return ['--report', 'out/r.html']
      },
      '--report out/r.html: out is a symbolic link inside the workspace; an untrusted run writes no file through a link the checkout holds (remove it, or write outside the workspace)'
    ]
  ])('%s', async (_what, make, message) => {
    const { ws, home } = places()
    writeFileSync(path.join(ws, 'pipeline.yml'), pipeline)
    const flags = make(ws, home)
    const { status, stderr } = await cli(ws, 'run', 'pipeline.yml', '--untrusted', ...flags)
    expect({ status, stderr }).toEqual({ status: 2, stderr: `${message.replace('WS', ws)}\n` })
    expect(readFileSync(path.join(home, 'authorized_keys'), 'utf8')).toBe('the owner key\n')
  })
})

describe('init --force (item 10)', () => {
  it('replaces a committed symlink where a file goes, and leaves its target alone', async () => {
    const { ws, home } = places()
    symlinkSync(path.join(home, 'authorized_keys'), path.join(ws, 'ctr-pipeline.yml'))
    await writeInitFiles(ws, { image: 'img', force: true })
    expect(readFileSync(path.join(home, 'authorized_keys'), 'utf8')).toBe('the owner key\n')
    expect(readFileSync(path.join(ws, 'ctr-pipeline.yml'), 'utf8')).toContain('image: img')
  })

  it('refuses a committed symlink to a folder on the way, and writes nothing', async () => {
    const { ws, home } = places()
    symlinkSync(home, path.join(ws, '.github'))
    await expect(writeInitFiles(ws, { image: 'img', force: true })).rejects.toThrow(
      `init: ${ws}/.github is a symbolic link: nothing written`
    )
    expect(readlinkSync(path.join(ws, '.github'))).toBe(home)
    expect(() => readFileSync(path.join(ws, 'ctr-pipeline.yml'))).toThrow('ENOENT')
  })
})

describe('plan does not print a secret in an error (item 13)', () => {
  it('masks it, and puts the error at its job (exit 2)', async () => {
    const { ws } = places()
    writeFileSync(
      path.join(ws, 'pipeline.yml'),
      `jobs:
  a:
    runs-on: {with: {image: img, resources: {memory: "\${MEM}"}}}
    stages: [{name: s, type: sh, run: 'true'}]
`
    )
    process.env.MEM = 'hunter2-the-secret'
    try {
      expect(await cli(ws, 'plan', 'pipeline.yml')).toEqual({
        status: 2,
        stderr: "pipeline.yml:2:3: jobs.a (a): runs-on.with.resources.memory: '***' is not valid\n"
      })
    } finally {
      delete process.env.MEM
    }
  })
})
