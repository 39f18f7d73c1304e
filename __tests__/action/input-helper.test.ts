import { getSettings, TRUSTED_EVENTS, trustedEvent } from '../../src/action/input-helper.js'

const repo = (full_name: string, fork = false) => ({ full_name, fork })
const pr = (head: unknown, base = repo('o/r')) => ({
  pull_request: { head: { repo: head }, base: { repo: base } }
})
const sameRepo = pr(repo('o/r'))
const fork = pr(repo('me/r', true))

describe('trustedEvent: what untrusted: auto trusts (fails closed)', () => {
  it.each<[string, string | undefined, unknown, boolean]>([
    ['a push', 'push', { ref: 'refs/heads/main' }, true],
    ['a schedule', 'schedule', {}, true],
    ['a manual dispatch', 'workflow_dispatch', {}, true],
    ['a release', 'release', {}, true],
    ['a merge queue', 'merge_group', {}, true],
    ['a pull request from a branch of the same repository', 'pull_request', sameRepo, true],
    ['a pull request from a fork', 'pull_request', fork, false],
    [
      'a pull request from another repository not marked as a fork',
      'pull_request',
      pr(repo('me/r')),
      false
    ],
    ['a pull request whose head repository was deleted', 'pull_request', pr(null), false],
    ['a pull request whose payload could not be read', 'pull_request', undefined, false],
    [
      'a pull request with no base repository',
      'pull_request',
      pr(repo('o/r'), null as never),
      false
    ],
    ['pull_request_target, even from the same repository', 'pull_request_target', sameRepo, false],
    ['pull_request_target from a fork', 'pull_request_target', fork, false],
    [
      'a comment on a pull request (/ci run)',
      'issue_comment',
      { issue: { pull_request: {} } },
      false
    ],
    [
      'workflow_run after a fork pull request',
      'workflow_run',
      { workflow_run: { event: 'pull_request' } },
      false
    ],
    ['pull_request_review', 'pull_request_review', sameRepo, false],
    ['an event this list does not know', 'repository_dispatch', {}, false],
    ['no event name at all', undefined, {}, false],
    ['a push with a pull request in its payload', 'push', fork, true]
  ])('%s', (_what, name, payload, expected) => {
    expect(trustedEvent(name, payload)).toBe(expected)
  })

  it('trusts exactly the events the docs list', () => {
    expect(TRUSTED_EVENTS).toEqual([
      'push',
      'schedule',
      'workflow_dispatch',
      'release',
      'merge_group'
    ])
  })
})

describe('getSettings: workflow commands and variables come from the workflow (items 5, 8)', () => {
  const pipeline = `allow_workflow_commands: true
jobs:
  a:
    runs-on: {with: {image: img}}
    stages: [{name: s, type: sh, run: 'true'}]
`
  const inputs = (values: Record<string, string>) => {
    const names = Object.keys(values).map((name) => `INPUT_${name.toUpperCase()}`)
    Object.entries(values).forEach(([name, value]) => {
      process.env[`INPUT_${name.toUpperCase()}`] = value
    })
    return () => names.forEach((name) => delete process.env[name])
  }

  it.each<[string, Record<string, string>, boolean, string[]]>([
    ['trusted: the file allows them', { untrusted: 'false' }, true, []],
    ['untrusted: the file cannot allow them for itself', { untrusted: 'true' }, false, []],
    [
      'untrusted: the workflow allows them, and names variables',
      {
        untrusted: 'true',
        'allow-workflow-commands': 'true',
        'untrusted-variables': 'DATASET\nREGION, LEVEL'
      },
      true,
      ['DATASET', 'REGION', 'LEVEL']
    ]
  ])('%s', async (_what, values, workflowCommands, untrustedVariables) => {
    const restore = inputs({ pipeline: pipeline, ...values })
    try {
      const settings = await getSettings()
      expect({
        workflowCommands: settings.workflowCommands,
        untrustedVariables: settings.allowedVariables
      }).toEqual({ workflowCommands, untrustedVariables })
    } finally {
      restore()
    }
  })

  it('refuses a variable name that is not one', async () => {
    const restore = inputs({ pipeline, untrusted: 'true', 'untrusted-variables': 'A-B' })
    try {
      await expect(getSettings()).rejects.toThrow(
        "input 'untrusted-variables': 'A-B' is not a variable name (letters, digits, _)"
      )
    } finally {
      restore()
    }
  })
})
