import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'
import { BUSYBOX, leftovers, NOTHING_LEFT, tempDir } from '../helpers/engine.js'
import { CLI } from '../helpers/processes.js'

/**
 * The Node.js lines the CLI supports (package.json engines), each running the bundled CLI
 * as a user's machine would: the runtimes come from scripts/node-runtimes.sh, which CI
 * runs first. A runtime that is missing fails here, saying how to get it.
 */
const root = path.resolve(import.meta.dirname, '../..')
const cache = process.env.CTR_FIXTURE_CACHE ?? path.join(homedir(), '.cache/ctr-pipeline')
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string
  engines: { node: string }
}

describe.each([22, 24])('the bundled CLI on Node %i', (major) => {
  const node = path.join(cache, `node-${major}`, 'node')

  beforeAll(() => {
    if (!existsSync(node))
      throw new Error(`${node} is missing: run bash scripts/node-runtimes.sh (CI does)`)
  })

  it('is that Node line, and one package.json engines accepts', () => {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
    expect(version.startsWith(`v${major}.`)).toBe(true)
    expect(manifest.engines.node).toBe('>=22.12.0')
    const [, minor] = version.slice(1).split('.').map(Number)
    expect(major > 22 || minor >= 12).toBe(true)
  })

  it('prints its version, validates and runs a pipeline on the engine', async () => {
    const cli = (...args: string[]) =>
      spawnSync(node, [CLI, ...args], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, FORCE_COLOR: undefined }
      })
    expect(cli('--version').stdout).toBe(`${manifest.version}\n`)
    expect(cli('validate', 'examples/quickstart.yml').status).toBe(0)
    const file = path.join(tempDir(), 'pipeline.yml')
    writeFileSync(
      file,
      `jobs:\n  a:\n    runs-on: {with: {image: ${BUSYBOX}}}\n    stages: [{name: s, type: sh, run: 'echo "on node ${major}"'}]\n`
    )
    const run = cli('run', file)
    expect([run.status, run.stderr]).toEqual([0, ''])
    expect(run.stdout.split('\n')).toContain(`[a] on node ${major}`)
    const runId = /^run (\S+):/m.exec(run.stdout)![1]
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})
