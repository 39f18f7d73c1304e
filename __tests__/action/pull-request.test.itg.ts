import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { BUSYBOX, leftovers, NOTHING_LEFT, tempDir } from '../helpers/engine.js'
import { FakeGitHubApi } from '../helpers/fake-github-api.js'
import { ACTION, runNode } from '../helpers/processes.js'
import { runnerEnv } from '../helpers/runner.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** A pull request from a branch of the same repository (trusted). */
function pullRequestEvent(): string {
  const file = path.join(tempDir(), 'event.json')
  const repo = { full_name: 'acme/data', fork: false }
  writeFileSync(
    file,
    JSON.stringify({ pull_request: { number: 12, head: { repo }, base: { repo } } })
  )
  return file
}

const PIPELINE = [
  'name: data-checks',
  'jobs:',
  '  csv:',
  '    changed_files: ["data/**/*.csv"]',
  `    runs-on: {with: {image: ${BUSYBOX}}}`,
  '    stages:',
  '      - name: check',
  '        type: sh',
  '        run: |',
  '          for f in $CTR_CHANGED_FILES; do',
  '            echo "::error file=$f,line=2::price is empty" >> "$CTR_ANNOTATIONS"',
  '          done',
  '          exit 1',
  '  docs:',
  '    changed_files: ["docs/**"]',
  `    runs-on: {with: {image: ${BUSYBOX}}}`,
  '    stages: [{name: s, type: sh, run: "true"}]',
  ''
].join('\n')

describe('on a pull request', () => {
  let api: FakeGitHubApi
  beforeEach(async () => {
    api = new FakeGitHubApi('acme/data', 12, [
      { filename: 'data/sales.csv', status: 'modified' },
      { filename: 'data/old.csv', status: 'removed' },
      { filename: 'README.md', status: 'modified' }
    ])
    await api.start()
  })
  afterEach(() => api.stop())

  const run = () => {
    const runner = runnerEnv({
      pipeline: PIPELINE,
      'comment-on-pr': 'true',
      'github-token': 'test-token'
    })
    return runNode(ACTION, [], { ...runner.env, ...api.env(pullRequestEvent()) }).then((done) => ({
      ...done,
      runner
    }))
  }

  it('runs the jobs its changed files select, annotates them, and keeps one comment up to date', async () => {
    const first = await run()
    expect(first.code).toBe(1)
    expect(first.stdout).toContain('pull request #12 changes 2 files')
    expect(first.stdout).toContain('::error file=data/sales.csv,line=2::price is empty')
    expect(first.stdout).toContain('[docs] job skipped: no changed file matches')
    expect(api.comments).toHaveLength(1)
    const comment = { ...api.comments[0] }
    expect(comment.body).toMatch(
      /^<!-- ctr-pipeline comment: data-checks -->\n## ❌ data-checks: failure/
    )
    expect(comment.body).toContain('data/sales.csv:2 error in csv: price is empty')
    expect(comment.body).toContain('| docs |  | ⏭️ skipped |')
    expect(first.stdout).toContain(`commented on pull request #12: ${comment.html_url}`)

    const second = await run()
    expect(second.stdout).toContain('updated the comment on pull request #12')
    expect(api.comments).toHaveLength(1)
    expect(api.comments[0].id).toBe(comment.id)
    expect(api.comments[0].body).not.toBe(comment.body) // a new run id
    expect(api.requests.every((r) => r.authorization === 'token test-token')).toBe(true)
  })

  it('warns, and keeps the run’s own outcome, when the token may not comment', async () => {
    api.readOnly = true
    const { code, stdout, runner } = await run()
    expect(code).toBe(1)
    expect(stdout).toContain(
      "::warning::comment-on-pr: could not comment on pull request #12: HTTP 403: Resource not accessible by integration (the token needs 'pull-requests: write'"
    )
    expect(runner.read('output').status).toBe('failure')
  })
})
