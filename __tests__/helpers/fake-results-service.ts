import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the action uploaded: an artifact's name and the bytes of its zip. */
export interface UploadedArtifact {
  name: string
  zip: Buffer
  finalized: boolean
}

/**
 * A stand-in, on loopback, for the two GitHub services `@actions/artifact` talks to: the
 * results service's Twirp API (CreateArtifact, FinalizeArtifact) and the blob store the
 * signed upload URL points at (Azure block blob PUTs). No network leaves the machine.
 */
export class FakeResultsService {
  readonly artifacts = new Map<string, UploadedArtifact>()
  private readonly blocks = new Map<string, Buffer>()
  private readonly server: Server = createServer((req, res) => {
    void this.handle(req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(body === undefined ? '' : JSON.stringify(body))
      },
      (error: Error) => {
        res.writeHead(500)
        res.end(error.message)
      }
    )
  })

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`
  }

  /** The env a runner gives a step so that it can upload artifacts. */
  env(): Record<string, string> {
    const claims = { scp: 'Actions.Results:run-backend-id:job-backend-id' }
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    return {
      ACTIONS_RUNTIME_TOKEN: `${encode({ alg: 'none' })}.${encode(claims)}.`,
      ACTIONS_RESULTS_URL: this.url
    }
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve))
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const body = await read(req)
    const url = new URL(req.url ?? '/', this.url)
    const service = '/twirp/github.actions.results.api.v1.ArtifactService/'
    if (req.method === 'POST' && url.pathname === `${service}CreateArtifact`) {
      const { name } = JSON.parse(body.toString()) as { name: string }
      this.artifacts.set(name, { name, zip: Buffer.alloc(0), finalized: false })
      return { status: 200, body: { ok: true, signed_upload_url: `${this.url}blob/${name}?sig=x` } }
    }
    if (req.method === 'POST' && url.pathname === `${service}FinalizeArtifact`) {
      const { name } = JSON.parse(body.toString()) as { name: string }
      this.artifacts.get(name)!.finalized = true
      return { status: 200, body: { ok: true, artifact_id: '42' } }
    }
    if (req.method === 'PUT' && url.pathname.startsWith('/blob/')) {
      const name = decodeURIComponent(url.pathname.slice('/blob/'.length))
      const comp = url.searchParams.get('comp')
      if (comp === 'block') {
        this.blocks.set(`${name}/${url.searchParams.get('blockid')}`, body)
      } else if (comp === 'blocklist') {
        // The block list names the blocks, in order, as <Latest>id</Latest>.
        const ids = [...body.toString().matchAll(/<Latest>([^<]*)<\/Latest>/g)].map((m) => m[1])
        this.artifacts.get(name)!.zip = Buffer.concat(
          ids.map((id) => this.blocks.get(`${name}/${id}`)!)
        )
      } else {
        this.artifacts.get(name)!.zip = body
      }
      return { status: 201 }
    }
    return { status: 404, body: { msg: `no ${req.method} ${url.pathname}` } }
  }
}

async function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
