import Docker from 'dockerode'
import { execFileSync } from 'node:child_process'
import http from 'node:http'

/** scripts/swarm-lab.sh, run from the repository's root. */
export function lab(verb: 'up' | 'down' | 'check' | 'env' | 'stop', node?: string): string {
  return execFileSync('bash', ['scripts/swarm-lab.sh', verb, ...(node ? [node] : [])], {
    encoding: 'utf8'
  })
}

/** The lab's addresses, from `swarm-lab.sh env`: the manager's socket, every node's, the registry. */
export function labEnv(): { DOCKER_HOST: string; nodes: string[]; registry: string } {
  const env = Object.fromEntries(
    lab('env')
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
  )
  return {
    DOCKER_HOST: env.DOCKER_HOST,
    nodes: env.SWARM_LAB_NODES.replaceAll('"', '').split(' '),
    registry: env.SWARM_LAB_REGISTRY
  }
}

/**
 * An engine client on a `unix://` socket. Its connections are not kept alive: Node's
 * global agent would hand a later test file a socket of a lab that has since gone down.
 */
export function engineAt(address: string): Docker {
  return new Docker({
    socketPath: address.replace('unix://', ''),
    agent: new http.Agent({ keepAlive: false })
  } as Docker.DockerOptions)
}

/**
 * What ctr-pipeline left on the lab: labelled services and networks on the manager, and
 * labelled containers and volumes on every node (a worker keeps a task's container for a
 * moment after its service is removed, so this waits up to `waitMs` for them to go).
 */
export async function labLeftovers(
  runId?: string,
  waitMs = 15_000,
  /** Nodes not to ask (one that was stopped). */
  skip: string[] = []
) {
  const label = runId ? `ctr-pipeline.run-id=${runId}` : 'ctr-pipeline.managed=true'
  const filters = JSON.stringify({ label: [label] })
  const { DOCKER_HOST, nodes } = labEnv()
  const manager = engineAt(DOCKER_HOST)
  const deadline = Date.now() + waitMs
  for (;;) {
    const [services, networks, perNode] = await Promise.all([
      manager.listServices({ filters }),
      manager.listNetworks({ filters }),
      Promise.all(
        nodes
          .filter((node) => !skip.some((name) => node.includes(`/${name}/`)))
          .map(async (node) => {
            const engine = engineAt(node)
            const [containers, volumes] = await Promise.all([
              engine.listContainers({ all: true, filters }),
              engine.listVolumes({ filters })
            ])
            return containers.length + (volumes.Volumes?.length ?? 0)
          })
      )
    ])
    const left = {
      services: services.length,
      networks: networks.length,
      onNodes: perNode.reduce((a, b) => a + b, 0)
    }
    if (left.services + left.networks + left.onNodes === 0 || Date.now() > deadline) return left
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

export const NOTHING_LEFT_ON_LAB = { services: 0, networks: 0, onNodes: 0 }
