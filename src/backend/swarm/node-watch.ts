import type { EngineConnection } from '../engine/connection.js'

/** How often the nodes' states are read, to tell a task whose node went down. */
const NODES_POLL_MS = 2000

/** What the Engine API lists of a node. */
interface SwarmNode {
  ID: string
  Status: { State: string }
  Description?: { Hostname?: string }
}

/** The swarm's nodes that are down, read at most every NODES_POLL_MS whoever asks. */
export class NodeWatch {
  private nodes: { read: number; down: Promise<Map<string, string>> } | undefined

  constructor(private readonly engine: EngineConnection) {}

  /** The nodes that are down, by id, their host names as values. */
  down(): Promise<Map<string, string>> {
    if (!this.nodes || Date.now() - this.nodes.read > NODES_POLL_MS) {
      const down = this.engine
        .call('list nodes', (o) => this.engine.docker.listNodes(o))
        .then(
          (nodes: SwarmNode[]) =>
            new Map(
              nodes
                .filter((n) => n.Status.State === 'down')
                .map((n) => [n.ID, n.Description?.Hostname ?? n.ID])
            )
        )
      this.nodes = { read: Date.now(), down }
    }
    return this.nodes.down
  }
}
