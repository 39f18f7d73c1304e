import { execFileSync } from 'node:child_process'
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
