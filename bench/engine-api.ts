/**
 * The Engine API with nothing in between: HTTP/1.1 on the engine's socket, keep-alive, no
 * client library. The per-job baseline drives it as a minimal program would.
 */
import http from 'node:http'
import net from 'node:net'
import { performance } from 'node:perf_hooks'

/** The engine's socket, as DOCKER_HOST names it (unix sockets only). */
export const ENGINE_SOCKET = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(
  /^unix:\/\//,
  ''
)

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })

/** One API call; resolves to the parsed JSON body (or undefined for an empty one). */
export function call(method: string, route: string, body?: unknown): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        socketPath: ENGINE_SOCKET,
        agent,
        method,
        path: `/v1.41${route}`,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {}
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if ((response.statusCode ?? 500) >= 300) {
            reject(new Error(`${method} ${route}: ${response.statusCode} ${text}`))
          } else {
            resolve(text ? JSON.parse(text) : undefined)
          }
        })
      }
    )
    request.on('error', reject)
    request.end(payload)
  })
}

/** `docker run --rm IMAGE CMD` in four calls: create, start, wait, remove. */
export async function runOnce(image: string, cmd: string[]): Promise<void> {
  const { Id } = (await call('POST', '/containers/create', { Image: image, Cmd: cmd })) as {
    Id: string
  }
  await call('POST', `/containers/${Id}/start`)
  const { StatusCode } = (await call('POST', `/containers/${Id}/wait`)) as { StatusCode: number }
  await call('DELETE', `/containers/${Id}`)
  if (StatusCode !== 0) throw new Error(`${cmd.join(' ')} exited ${StatusCode}`)
}

/**
 * How long the engine takes to deliver the whole output of `cmd` run by exec in a running
 * container of `image`, to a reader that only counts the bytes: the engine's own ceiling
 * for a stage's log. Resolves to the milliseconds of the exec and the bytes read.
 */
export async function execReadMs(
  image: string,
  cmd: string[]
): Promise<{ ms: number; bytes: number }> {
  const { Id } = (await call('POST', '/containers/create', {
    Image: image,
    Cmd: ['sleep', '600']
  })) as { Id: string }
  try {
    await call('POST', `/containers/${Id}/start`)
    const started = performance.now()
    const exec = (await call('POST', `/containers/${Id}/exec`, {
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true
    })) as { Id: string }
    const payload = JSON.stringify({ Detach: false, Tty: false })
    const bytes = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        {
          socketPath: ENGINE_SOCKET,
          method: 'POST',
          path: `/v1.41/exec/${exec.Id}/start`,
          headers: { 'content-type': 'application/json', 'content-length': payload.length }
        },
        (response) => {
          let count = 0
          response.on('data', (chunk: Buffer) => (count += chunk.length))
          response.on('end', () => resolve(count))
        }
      )
      request.on('error', reject)
      request.end(payload)
    })
    return { ms: performance.now() - started, bytes }
  } finally {
    await call('DELETE', `/containers/${Id}?force=true`)
  }
}

/** Lets the bench's process exit: the keep-alive sockets would hold it. */
export function closeConnections(): void {
  agent.destroy()
}

/**
 * A socket that passes everything on to the engine and notes when the first request
 * arrived: how long a process took from its start to its first Engine API call.
 */
export async function firstCallProxy(socketPath: string) {
  let first: number | undefined
  const server = net.createServer((client) => {
    first ??= performance.now()
    const engine = net.connect(ENGINE_SOCKET)
    client.pipe(engine).pipe(client)
    const close = () => {
      client.destroy()
      engine.destroy()
    }
    client.on('error', close)
    engine.on('error', close)
  })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  return {
    /** Forgets the last first call, for the next process. */
    reset: () => (first = undefined),
    firstCallAt: () => first,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
