import { isForkPullRequest } from '../../src/action/input-helper.js'

const repo = (full_name: string, fork = false) => ({ full_name, fork })

describe('isForkPullRequest', () => {
  it.each<[string, unknown, boolean]>([
    ['a push', { ref: 'refs/heads/main' }, false],
    [
      'a pull request from a branch of the same repository',
      { pull_request: { head: { repo: repo('o/r') }, base: { repo: repo('o/r') } } },
      false
    ],
    [
      'a pull request from a fork',
      { pull_request: { head: { repo: repo('me/r', true) }, base: { repo: repo('o/r') } } },
      true
    ],
    [
      'a pull request from another repository not marked as a fork',
      { pull_request: { head: { repo: repo('me/r') }, base: { repo: repo('o/r') } } },
      true
    ],
    [
      'a pull request whose head repository was deleted',
      { pull_request: { head: { repo: null }, base: { repo: repo('o/r') } } },
      true
    ]
  ])('%s: %s', (_what, event, expected) => {
    expect(isForkPullRequest(event)).toBe(expected)
  })
})
