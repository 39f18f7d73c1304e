import { setTimeout as sleep } from 'node:timers/promises'
import { servicesNetworkName } from '../plan/container-paths.js'
import { planService } from '../plan/container-plan.js'
import { runLabels } from '../plan/labels.js'
import type { PlannedInstance } from '../plan/pipeline-plan.js'
import type { Backend } from '../backend/backend.js'
import type { ImageStore } from './image-store.js'
import { letGo, type RunReporter } from './run-reporter.js'
import type { ContainerGuard } from './untrusted-guard.js'

/** How many of a failed service's last log lines its error quotes. */
const SERVICE_LOG_LINES = 20
/** How often a starting service is looked at. */
const POLL_MS = 100
/** Slack beyond what the health check's own timings allow, before giving up on it. */
const HEALTH_SLACK_MS = 10_000

export interface ServiceContext {
  backend: Backend
  images: ImageStore
  reporter: RunReporter
  runId: string
  pipelineDir: string
  /** Engine names of the top-level named volumes, by their key in the file. */
  namedVolumes: Record<string, string>
  renderValue: (text: string) => string
  renderWords?: (words: readonly string[]) => string[]
  signal: AbortSignal
  /** Held to the run's guard as jobs are (containerGuard). */
  guard: ContainerGuard
}

/** A job instance's running services; `stop` removes them and their network. */
export interface RunningServices {
  /**
   * What went wrong with the services while the job ran: a service that stopped with a
   * non-zero code (its last log lines quoted), else undefined. One that ended with 0 was a
   * one-shot by design.
   */
  check(): Promise<string | undefined>
  stop(): Promise<void>
}

/**
 * Starts a job instance's `services:` on a network of its own, where each answers to its
 * key, connects the job's (created, not yet started) container to it, and waits until
 * every service is healthy (or, without a health check, running). A service that exits
 * or fails its health check throws, quoting its last log lines; whatever was started is
 * removed first.
 */
export async function startServices(
  instance: PlannedInstance,
  jobContainerId: string,
  ctx: ServiceContext
): Promise<RunningServices> {
  const network = servicesNetworkName(ctx.runId, instance.slug)
  const started: string[] = []
  const stop = async () => {
    await Promise.all(started.map((id) => ctx.backend.removeContainer(id)))
    await ctx.backend.removeNetwork(network)
  }
  try {
    await ctx.backend.createNetwork(network, runLabels(ctx.runId))
    const keys = Object.keys(instance.job.services)
    const ids = await Promise.all(
      keys.map(async (key) => {
        const planned = planService(instance, key, { ...ctx, network })
        await ctx.guard(planned, [network])
        await ctx.images.prepare(planned.image)
        const id = await ctx.backend.createContainer(planned)
        started.push(id)
        await ctx.backend.startContainer(id)
        return id
      })
    )
    await ctx.backend.connectNetwork(jobContainerId, network, [instance.slug])
    await Promise.all(keys.map((key, i) => waitReady(instance, key, ids[i], ctx)))
    const check = async () => {
      for (const [i, key] of keys.entries()) {
        const state = await ctx.backend.health(ids[i])
        if (!state.running && state.exitCode !== 0) {
          const error = await serviceError(
            `service '${key}' exited with code ${state.exitCode} while the job ran`,
            ids[i],
            ctx
          )
          return error.message
        }
      }
      return undefined
    }
    return { check, stop }
  } catch (error) {
    await stop().catch(letGo(ctx.reporter, `removing ${instance.id}'s services after a failure`))
    throw error
  }
}

async function waitReady(
  instance: PlannedInstance,
  key: string,
  id: string,
  ctx: ServiceContext
): Promise<void> {
  const check = instance.job.services[key].healthcheck
  const allowedMs = check
    ? check.start_period_ms + (check.interval_ms + check.timeout_ms) * (check.retries + 1)
    : 0
  const deadline = Date.now() + allowedMs + HEALTH_SLACK_MS
  for (;;) {
    ctx.signal.throwIfAborted()
    const state = await ctx.backend.health(id)
    if (!state.running) {
      throw await serviceError(`service '${key}' exited with code ${state.exitCode}`, id, ctx)
    }
    if (state.health === 'healthy' || state.health === 'none') {
      ctx.reporter.info(`[${instance.id}] service ${key} ready`)
      return
    }
    if (state.health === 'unhealthy' || Date.now() > deadline) {
      const verdict =
        state.health === 'unhealthy' ? 'failed its health check' : 'never became healthy'
      const last = state.lastCheck ? ` (last check: ${state.lastCheck})` : ''
      throw await serviceError(`service '${key}' ${verdict}${last}`, id, ctx)
    }
    await sleep(POLL_MS)
  }
}

async function serviceError(message: string, id: string, ctx: ServiceContext): Promise<Error> {
  const lines = await ctx.backend.logTail(id, SERVICE_LOG_LINES).catch((error: unknown) => {
    letGo(ctx.reporter, `reading service ${id}'s log`)(error)
    return []
  })
  const tail = lines.length > 0 ? `; its last log lines:\n${lines.join('\n')}` : ''
  return new Error(`${message}${tail}`)
}
