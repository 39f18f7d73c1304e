import { realpath } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ContainerPlan } from '../plan/container-plan.js'
import { enforceUntrusted, type UntrustedScope } from '../plan/untrusted-policy.js'

/** An untrusted pipeline's container asks for what untrusted mode does not allow. */
export class UntrustedRefusal extends Error {
  override name = 'UntrustedRefusal'
}

/**
 * Holds a planned container to untrusted mode just before it is built or created: throws
 * UntrustedRefusal with every key it refuses. `networks` are those it may join besides
 * the run's (its job's services network).
 */
export type ContainerGuard = (planned: ContainerPlan, networks?: string[]) => Promise<void>

/**
 * The guard of an untrusted run. Every bind source and build path is resolved with
 * `realpath` at the moment it is checked, and the resolved path is what the engine is
 * given: a symlink committed in the workspace, or left in it by an earlier job, cannot
 * point a mount at the Docker socket or `/etc`. (A job running at the same time with the
 * workspace mounted read-write could still swap a folder for a symlink between this check
 * and the engine's mount; the README says so.)
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
    const { image } = planned
    if (image.kind === 'build') {
      image.context = await resolved(image.context)
      const dockerfile = await resolved(path.resolve(image.context, image.dockerfile))
      image.dockerfile = path.relative(image.context, dockerfile)
    }
    const refused = enforceUntrusted(planned, {
      ...scope,
      ...host,
      workspace,
      networks: [...scope.networks, ...networks]
    })
    refused.push(...missing.map((p) => `${p} does not exist, so it cannot be checked`))
    if (refused.length > 0)
      throw new UntrustedRefusal(`refused in untrusted mode: ${refused.join('; ')}`)
  }
}
