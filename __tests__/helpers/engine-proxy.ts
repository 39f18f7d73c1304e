import net from 'node:net'
import path from 'node:path'
import { tempDir } from './engine.js'

/**
 * A unix socket in front of the Docker engine's, that a test can make misbehave at a
 * moment of its choosing: `stall` stops forwarding (connections stay open, nothing comes
 * back, new ones are accepted and left hanging); `reset` breaks every open connection and
 * closes new ones at once.
 */
export class EngineProxy {
  readonly socket = path.join(tempDir('ctr-proxy-'), 'docker.sock')
  /** DOCKER_HOST for a process that should talk to the engine through the proxy. */
  readonly dockerHost = `unix://${this.socket}`
  private mode: 'pass' | 'stall' | 'reset' = 'pass'
  private readonly pairs = new Set<[net.Socket, net.Socket]>()
  private readonly server = net.createServer((client) => this.accept(client))

  static async start(): Promise<EngineProxy> {
    const proxy = new EngineProxy()
    await new Promise<void>((resolve) => proxy.server.listen(proxy.socket, resolve))
    return proxy
  }

  private accept(client: net.Socket) {
    client.on('error', () => undefined)
    if (this.mode === 'reset') return client.destroy()
    if (this.mode === 'stall') return void this.pairs.add([client, client])
    const engine = net.connect('/var/run/docker.sock')
    engine.on('error', () => client.destroy())
    client.pipe(engine)
    engine.pipe(client)
    const pair: [net.Socket, net.Socket] = [client, engine]
    this.pairs.add(pair)
    // A half-closed engine socket (the client went, the engine keeps its side open, as it
    // does for a hijacked exec) would keep the test process alive: both sides go together.
    const drop = () => {
      client.destroy()
      engine.destroy()
      this.pairs.delete(pair)
    }
    client.on('close', drop)
    engine.on('close', drop)
  }

  /** Nothing more is forwarded either way; connections stay open. */
  stall() {
    this.mode = 'stall'
    for (const [client, engine] of this.pairs) {
      client.unpipe()
      engine.unpipe()
      client.pause()
      engine.pause()
    }
  }

  /** Every connection is broken, and new ones too. */
  reset() {
    this.mode = 'reset'
    for (const [client, engine] of this.pairs) {
      client.destroy()
      engine.destroy()
    }
    this.pairs.clear()
  }

  async close() {
    for (const [client, engine] of this.pairs) {
      client.destroy()
      engine.destroy()
    }
    await new Promise((resolve) => this.server.close(resolve))
  }
}
