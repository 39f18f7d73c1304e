import type * as github from '@actions/github'
import { InputError } from '../pipeline/input-error.js'

/** The REST client `@actions/github` gives for the workflow's token. */
export type Octokit = ReturnType<typeof github.getOctokit>

/**
 * `@actions/github`, loaded by the runs that use a pull request: with its REST client it
 * would otherwise be about a fifth of every run's start-up.
 */
export function loadGitHub(): Promise<typeof github> {
  return import('@actions/github')
}

/** The pull request a workflow run is about. */
export interface PullRequestRef {
  owner: string
  repo: string
  number: number
}

/** GitHub lets a comment hold at most this many characters. */
export const COMMENT_LIMIT_CHARS = 65536

/**
 * The pull request of the event that started the workflow (`pull_request`,
 * `pull_request_target`, or a comment on a pull request); undefined for any other event.
 */
export function pullRequestOf(context: typeof github.context): PullRequestRef | undefined {
  const number =
    context.payload.pull_request?.number ??
    (context.payload.issue?.pull_request ? context.payload.issue.number : undefined)
  if (typeof number !== 'number' || !process.env.GITHUB_REPOSITORY) return undefined
  return { ...context.repo, number }
}

/**
 * The paths a pull request adds, changes or renames to (a file it removes is not there to
 * check), as the API lists them (GitHub lists at most 3000).
 */
export async function listChangedFiles(octokit: Octokit, pr: PullRequestRef): Promise<string[]> {
  try {
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: pr.owner,
      repo: pr.repo,
      pull_number: pr.number,
      per_page: 100
    })
    return files.filter((f) => f.status !== 'removed').map((f) => f.filename)
  } catch (error) {
    throw new InputError(
      `cannot list the files of pull request #${pr.number} for changed_files: ${apiMessage(error)} (the token needs 'pull-requests: read')`
    )
  }
}

/** The hidden line that finds the action's comment again on later runs. */
export function commentMarker(key: string): string {
  return `<!-- ctr-pipeline comment: ${key.replace(/-->/g, '')} -->`
}

/**
 * Posts `body` on the pull request as one comment per `key`: the first run creates it,
 * later runs edit it in place, found by its hidden marker.
 */
export async function upsertComment(
  octokit: Octokit,
  pr: PullRequestRef,
  key: string,
  body: string
): Promise<{ url: string; created: boolean }> {
  const marker = commentMarker(key)
  const text = `${marker}\n${body}`
  const issue = { owner: pr.owner, repo: pr.repo, issue_number: pr.number }
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...issue,
    per_page: 100
  })
  const ours = comments.find((c) => c.body?.startsWith(marker))
  if (ours) {
    const { data } = await octokit.rest.issues.updateComment({
      owner: pr.owner,
      repo: pr.repo,
      comment_id: ours.id,
      body: text
    })
    return { url: data.html_url, created: false }
  }
  const { data } = await octokit.rest.issues.createComment({ ...issue, body: text })
  return { url: data.html_url, created: true }
}

/** An API error in one line: its status and GitHub's message. */
export function apiMessage(error: unknown): string {
  const status = (error as { status?: number }).status
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
  return status ? `HTTP ${status}: ${message}` : message
}
