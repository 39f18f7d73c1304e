import { access, readFile, realpath } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'

/** One mount of the container this process runs in: where it shows, and what it is on the host. */
export interface OwnMount {
  /** Where it is mounted in this container. */
  destination: string
  /** Its host path: a bind's source, or a volume's folder on the engine's host. */
  source: string
}

/** The container this process runs in, on the engine it talks to. */
export interface OwnContainer {
  id: string
  mounts: OwnMount[]
}

/** A bind source that no mount of this process's container holds. */
export class NotOnHostError extends Error {
  override name = 'NotOnHostError'
}

/**
 * Ids this process's container may have, most certain first: the engine mounts
 * `/var/lib/docker/containers/ID/{hostname,hosts,resolv.conf}` into every container
 * (whatever the cgroup version), cgroup v1 names `/docker/ID`, and the hostname is the
 * short id unless the container was given one. Empty outside a container.
 */
export function ownContainerIds(mountinfo: string, cgroup: string, host: string): string[] {
  const ids: string[] = []
  for (const line of mountinfo.split('\n')) {
    const match = /\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)\b/.exec(line)
    if (match) ids.push(match[1])
  }
  for (const line of cgroup.split('\n')) {
    const match = /(?:\/docker\/|docker-)([0-9a-f]{64})/.exec(line)
    if (match) ids.push(match[1])
  }
  if (/^[0-9a-f]{12}$/.test(host)) ids.push(host)
  return [...new Set(ids)]
}

/**
 * The host path of `file` (as this process sees it) through the mount of its own
 * container that holds it, the deepest one where mounts nest. Throws NotOnHostError for a
 * path in none of them: it exists only inside this container, and the engine, which
 * reads bind sources on its host, would mount something else or nothing.
 */
export function hostPathOf(file: string, own: OwnContainer): string {
  const holding = own.mounts
    .filter((m) => file === m.destination || isUnder(file, m.destination))
    .sort((a, b) => b.destination.length - a.destination.length)[0]
  if (!holding)
    throw new NotOnHostError(
      `mount source ${file} is inside this process's container (${own.id.slice(0, 12)}), in none of its mounts: ` +
        `the Docker engine reads mount sources on its host. Mount the folder into this container ` +
        `(its mounts: ${own.mounts.map((m) => m.destination).join(', ') || 'none'})`
    )
  return path.posix.join(holding.source, path.posix.relative(holding.destination, file))
}

function isUnder(file: string, folder: string): boolean {
  return folder === '/' || file.startsWith(folder.endsWith('/') ? folder : `${folder}/`)
}

/**
 * What this process can read about itself: /proc, and its hostname where `/.dockerenv`
 * says it is in a container (a host's own name could be twelve hex digits).
 */
export async function ownContainerHints(): Promise<string[]> {
  const read = (file: string) => readFile(file, 'utf8').catch(() => '')
  const inContainer = await access('/.dockerenv').then(
    () => true,
    () => false
  )
  return ownContainerIds(
    await read('/proc/self/mountinfo'),
    await read('/proc/self/cgroup'),
    inContainer ? hostname() : ''
  )
}

/** `file` with symbolic links resolved where they can be: an attacker's link is followed to its end here. */
export function resolvedPath(file: string): Promise<string> {
  return realpath(file).catch(() => file)
}
