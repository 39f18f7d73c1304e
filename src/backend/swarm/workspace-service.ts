import {
  WORKSPACE_BATCH_SH,
  WORKSPACE_PULL_SH,
  WORKSPACE_PUSH_SH,
  WORKSPACE_START_SH,
  WORKSPACE_STORE_SH
} from './scripts/assets.js'
import { shellWord } from '../shell-word.js'

/**
 * Local volumes exist per node, so on a swarm the run's workspace (and each of the file's
 * named volumes that is not external) lives in a service of its own: a small helper image
 * (BusyBox: `httpd`, `tar`) on the run's network that keeps it in its volume and serves it
 * over HTTP. Each task fetches the workspace before its
 * command and sends back what its command wrote after. Only the manager's API is used,
 * nothing needs shared storage, and a job reads what the jobs it needs wrote on any node.
 */

/** The name the workspace service answers to on the run's network. */
export const WORKSPACE_ALIAS = 'ctr-workspace'
const PORT = 7070

/** Where tasks reach it. */
export const WORKSPACE_URL = `http://${WORKSPACE_ALIAS}:${PORT}/cgi-bin`

/** The helper image when none is given: BusyBox, which every registry mirror carries. */
export const DEFAULT_HELPER_IMAGE = 'busybox:1.36'

/** The store of the run's workspace. */
export const WORKSPACE_STORE = 'w'

/** The store of the run's n-th named volume that the service keeps. */
export function storeOf(n: number): string {
  return `v${n}`
}

/** Where the backend puts batches in the workspace container (scripts/workspace-batch.sh). */
export const BATCH_DIR = '/data/.batch'

/**
 * The run's workspace: a container on the manager's engine, attached to the run's
 * attachable overlay network under WORKSPACE_ALIAS, where every task on any node reaches
 * it. A container rather than a service, because the manager's API can put files into a
 * container of its own engine: that is how a task created before its turn gets its batch.
 */
export function workspaceContainerBody(options: {
  name: string
  image: string
  network: string
  labels: Record<string, string>
}) {
  return {
    name: options.name,
    Image: options.image,
    Labels: options.labels,
    Cmd: ['sh', '-c', WORKSPACE_START_SH],
    Env: [
      `PULL=${WORKSPACE_STORE_SH}${WORKSPACE_PULL_SH}`,
      `PUSH=${WORKSPACE_STORE_SH}${WORKSPACE_PUSH_SH}`,
      `BATCH=${WORKSPACE_BATCH_SH}`,
      `PORT=${PORT}`
    ],
    StopSignal: 'SIGKILL',
    Volumes: { '/data': {} },
    HostConfig: { NetworkMode: options.network },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [WORKSPACE_ALIAS] } } }
  }
}

/** A command and its environment as the shell a batch task evaluates (see scripts/task.sh). */
export function batchScript(command: readonly string[], env: readonly string[]): string {
  return [
    `set -- ${command.map(shellWord).join(' ')}`,
    ...env.map((pair) => `export ${shellWord(pair)}`),
    ''
  ].join('\n')
}
