import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

interface Comment {
  id: number
  body: string
  html_url: string
}

/**
 * A loopback stand-in for the few REST endpoints the action calls (a pull request's
 * files, its comments), recording each request; no traffic leaves the machine.
 */
export class FakeGitHubApi {
  readonly comments: Comment[] = []
  readonly requests: Array<{ method: string; path: string; authorization?: string }> = []
  /** Answer writes with 403, as GitHub does for a fork's read-only token. */
  readOnly = false
  private server: Server | undefined
  private nextId = 100

  constructor(
    readonly repo: string,
    readonly pullNumber: number,
    readonly files: Array<{ filename: string; status: string }> = []
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res))
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve))
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let body = ''
    for await (const chunk of req) body += String(chunk)
    const url = new URL(req.url ?? '/', this.url)
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      authorization: req.headers.authorization
    })
    const base = `/repos/${this.repo}`
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(data))
    }
    if (req.method === 'GET' && url.pathname === `${base}/pulls/${this.pullNumber}/files`)
      return send(200, this.files)
    if (url.pathname === `${base}/issues/${this.pullNumber}/comments`) {
      if (req.method === 'GET') return send(200, this.comments)
      if (this.readOnly) return send(403, { message: 'Resource not accessible by integration' })
      const comment = this.comment(this.nextId++, (JSON.parse(body) as { body: string }).body)
      this.comments.push(comment)
      return send(201, comment)
    }
    const edit = new RegExp(`^${base}/issues/comments/(\\d+)$`).exec(url.pathname)
    if (req.method === 'PATCH' && edit) {
      if (this.readOnly) return send(403, { message: 'Resource not accessible by integration' })
      const comment = this.comments.find((c) => c.id === Number(edit[1]))
      if (!comment) return send(404, { message: 'Not Found' })
      comment.body = (JSON.parse(body) as { body: string }).body
      return send(200, comment)
    }
    send(404, { message: `no ${req.method} ${url.pathname} here` })
  }

  private comment(id: number, body: string): Comment {
    return {
      id,
      body,
      html_url: `https://github.com/${this.repo}/pull/${this.pullNumber}#issuecomment-${id}`
    }
  }

  /** The variables the runner sets for a workflow run of this pull request. */
  env(eventFile: string): Record<string, string> {
    return {
      GITHUB_API_URL: this.url,
      GITHUB_REPOSITORY: this.repo,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile
    }
  }
}
