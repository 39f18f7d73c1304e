import path from 'node:path'
import { InputError } from '../../pipeline/input-error.js'

/** What a host folder of the file is on a cluster (`--map ./data=pvc:data`). */
export interface HostMap {
  /** The host folder, absolute (relative ones from the pipeline file's folder, as mounts). */
  source: string
  to: { kind: 'pvc'; claim: string } | { kind: 'hostPath'; path: string }
}

/** The form `--map` takes, for messages. */
export const HOST_MAP_FORM = 'HOST_PATH=pvc:CLAIM or HOST_PATH=hostPath:/PATH'

/**
 * Reads a `--map` flag; `pipelineDir` resolves a relative host path as the file's own
 * `source:` is resolved. A flag of another form is an InputError naming it.
 */
export function parseHostMap(text: string, pipelineDir: string): HostMap {
  const match = /^([^=]+)=(pvc|hostPath):(.+)$/.exec(text)
  if (!match || (match[2] === 'hostPath' && !match[3].startsWith('/')))
    throw new InputError(`--map '${text}': expected ${HOST_MAP_FORM}`)
  const source = path.resolve(pipelineDir, match[1])
  return match[2] === 'pvc'
    ? { source, to: { kind: 'pvc', claim: match[3] } }
    : { source, to: { kind: 'hostPath', path: match[3] } }
}

/**
 * The map a host folder falls under (the one for the deepest folder), and the path below
 * it: `/data/sales` under a map of `/data` is `sales`.
 */
export function mappedPath(
  source: string,
  maps: readonly HostMap[]
): { map: HostMap; rest: string } | undefined {
  const map = maps
    .filter((m) => source === m.source || source.startsWith(`${m.source}/`))
    .sort((a, b) => b.source.length - a.source.length)[0]
  return map && { map, rest: source.slice(map.source.length).replace(/^\//, '') }
}
