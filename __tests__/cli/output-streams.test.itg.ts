import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { tempDir } from '../helpers/engine.js'
import { CLI } from '../helpers/processes.js'

/** Runs the bundled CLI into `| head -1`: its exit status, what head printed, its stderr. */
function intoHead(dir: string, args: string) {
  const out = execFileSync(
    'bash',
    ['-c', `node ${CLI} ${args} 2>stderr.txt | head -1; echo "status=\${PIPESTATUS[0]}"`],
    { cwd: dir, encoding: 'utf8' }
  )
  return { out, stderr: readFileSync(path.join(dir, 'stderr.txt'), 'utf8') }
}

describe('a reader that quits early (issue 40, item 19)', () => {
  const dir = tempDir('ctr-pipe-')
  const axis = JSON.stringify([...Array(16).keys()])
  writeFileSync(
    path.join(dir, 'big.yml'),
    `jobs:
  a:
    strategy: {matrix: {x: ${axis}, y: ${axis}}}
    runs-on: {with: {image: img}}
    stages: [{name: s, type: sh, run: 'true'}]
`
  )

  it.each([
    ['plan --json of 256 instances', 'plan big.yml --json', '{'],
    [
      'validate of 3,000 files',
      `validate ${Array(3000).fill('big.yml').join(' ')}`,
      'big.yml: valid'
    ]
  ])('%s: no stack trace, and the command keeps its own status', (_what, args, first) => {
    expect(intoHead(dir, args)).toEqual({ out: `${first}\nstatus=0\n`, stderr: '' })
  })
})

describe('the bundled CLI in a run: step (issue 40, item 9)', () => {
  it('prints no line the runner would read as a command, in errors quoting the file too', () => {
    const dir = tempDir('ctr-runner-log-')
    writeFileSync(
      path.join(dir, 'p.yml'),
      `jobs:
  a:
    runs-on: {with: {image: "x\\n::add-mask::pwned"}}
    stages: [{name: s, type: sh, run: 'true'}]
`
    )
    const run = (env: Record<string, string>) =>
      spawnSync('node', [CLI, 'validate', 'p.yml'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, ...env }
      })
    const inStep = run({ GITHUB_ACTIONS: 'true' })
    expect([inStep.status, inStep.stderr]).toEqual([
      2,
      "p.yml:3:29: jobs.a.runs-on.with.image 'x\n:\u200b:add-mask::pwned' holds white space, which no image reference has\n"
    ])
    // Outside a runner, the text is as written.
    expect(run({ GITHUB_ACTIONS: '' }).stderr).toContain("'x\n::add-mask::pwned'")
  })
})
