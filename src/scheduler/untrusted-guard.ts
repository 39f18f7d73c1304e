import { lstat, realpath } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ContainerPlan } from '../plan/container-plan.js'
import { enforceUntrusted, type UntrustedScope } from '../plan/untrusted-policy.js'
import { isInside } from '../pipeline/host-access.js'
import { LABEL_NAMESPACE } from '../plan/labels.js'

/** A container asks for what the run's guard does not allow (a label's secret, untrusted mode's list). */
export class ContainerRefusal extends Error {
  override name = 'ContainerRefusal'
}

/**
 * Holds a planned container to the run's rules just before it is built or created: throws
 * ContainerRefusal with every key it refuses. `networks` are those it may join besides
 * the run's (its job's services network).
 */
export type ContainerGuard = (planned: ContainerPlan, networks?: string[]) => Promise<void>

/**
 * The guard of every run: a container whose labels hold a secret's value is refused in any
 * mode (labels are shown by every engine event and `docker inspect`, to anyone who can
 * list containers), then `untrusted`, when given, holds it to untrusted mode.
 */
export function containerGuard(
  secrets: readonly string[],
  untrusted?: ContainerGuard
): ContainerGuard {
  return async (planned, networks) => {
    // The run's own labels (`ctr-pipeline.*`) hold ids, never a value of the file's.
    const leaking = Object.keys(planned.labels).filter(
      (key) =>
        !key.startsWith(LABEL_NAMESPACE) &&
        secrets.some((secret) => planned.labels[key].includes(secret))
    )
    if (leaking.length > 0)
      throw new ContainerRefusal(
        `labels ${leaking.join(', ')}: a label holds a secret's value, and labels are shown by every engine event and docker inspect; pass it in environment instead`
      )
    await untrusted?.(planned, networks)
  }
}

/**
 * The guard of an untrusted run. Every bind source is resolved with `realpath` at the
 * moment it is checked, and the resolved path is what the engine is given: a symlink
 * committed in the workspace, or left in it by an earlier job, cannot point a mount at
 * the Docker socket or `/etc`. (A job running at the same time with the
 * workspace mounted read-write could still swap a folder for a symlink between this check
 * and the engine's mount; docs/security.md says so.) Git metadata in a bind is hidden.
 */
export async function untrustedGuard(
  scope: Omit<UntrustedScope, 'workspace' | 'hostCpus' | 'hostMemory'> & { workspace: string }
): Promise<ContainerGuard> {
  const workspace = await realpath(scope.workspace)
  const host = { hostCpus: os.availableParallelism(), hostMemory: os.totalmem() }
  return async (planned, networks = []) => {
    const missing: string[] = []
    const resolved = async (target: string) => {
      try {
        return await realpath(target)
      } catch {
        missing.push(target)
        return target
      }
    }
    for (const mount of planned.mounts) {
      if (mount.type === 'bind') mount.source = await resolved(mount.source)
    }
    const refused = enforceUntrusted(planned, {
      ...scope,
      ...host,
      workspace,
      networks: [...scope.networks, ...networks]
    })
    refused.push(...missing.map((p) => `${p} does not exist, so it cannot be checked`))
    refused.push(...(await hideGitMetadata(planned, workspace)))
    if (refused.length > 0)
      throw new ContainerRefusal(`refused in untrusted mode: ${refused.join('; ')}`)
  }
}

/** What covers a `.git` folder in a container: empty, read-only, and too small to fill. */
export const GIT_COVER_OPTIONS = 'ro,size=4k,mode=0555'

/**
 * Hides git metadata from an untrusted container's binds (resolved): the checkout's
 * `.git`, and the `.git` of a bound folder that is a repository of its own, get an empty
 * read-only tmpfs over them, so the job neither reads the token `actions/checkout` keeps
 * in `.git/config` nor writes hooks or `core.fsmonitor` that a later step's git would run.
 * A bind of a `.git` folder itself, or of a folder whose `.git` is a file (a worktree or
 * submodule: a tmpfs cannot cover a file), is returned as refused.
 */
async function hideGitMetadata(planned: ContainerPlan, workspace: string): Promise<string[]> {
  const refused: string[] = []
  const covers: ContainerPlan['mounts'] = []
  for (const mount of planned.mounts) {
    if (mount.type !== 'bind') continue
    const candidates = new Set([path.join(workspace, '.git'), path.join(mount.source, '.git')])
    for (const git of candidates) {
      if (isInside(mount.source, git)) {
        refused.push(`volumes: ${mount.source} (at ${mount.target}) is git metadata`)
        continue
      }
      if (!isInside(git, mount.source)) continue
      const stats = await lstat(git).catch(() => undefined)
      if (!stats) continue
      const target = path.posix.join(mount.target, path.relative(mount.source, git))
      if (!stats.isDirectory())
        refused.push(
          `volumes: ${mount.source} (at ${mount.target}) holds ${git}, which is not a folder, so it cannot be hidden`
        )
      else if (!planned.mounts.some((m) => m.type === 'tmpfs' && m.target === target))
        covers.push({ type: 'tmpfs', target, options: GIT_COVER_OPTIONS })
    }
  }
  planned.mounts.push(...covers)
  return refused
}
