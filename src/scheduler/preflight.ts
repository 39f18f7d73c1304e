import { stat } from 'node:fs/promises'
import { servicesNetworkName } from '../plan/container-paths.js'
import {
  planContainer,
  planService,
  type ContainerPlanContext,
  type ContainerPlan
} from '../plan/container-plan.js'
import type { PlannedJob } from '../plan/pipeline-plan.js'
import { expressionScope } from '../pipeline/expression.js'
import type { VariableSyntax } from '../pipeline/template.js'
import { valueRenderers } from '../pipeline/command-words.js'
import type { JobSpec } from '../pipeline/pipeline-types.js'
import type { ImageStore } from './image-store.js'
import type { ContainerGuard } from './untrusted-guard.js'

/** What a run knows before any job starts. */
export interface PreflightContext extends Omit<ContainerPlanContext, 'renderValue'> {
  params: Record<string, unknown>
  env: Record<string, string | undefined>
  /** How the file's values read `${VAR}` (see variableSyntax). */
  variables: VariableSyntax
  images: ImageStore
  /** What the run's guard refuses is a problem before anything is built (containerGuard). */
  guard: ContainerGuard
  /** The backend's CPU count, where one container's limit cannot pass it. */
  cpus?: number
  /** Where the backend's engine is (Backend.where), which a job's `docker_host` must name. */
  engine: string
}

/** Values that only exist once jobs have run: what reads them is checked when its job starts. */
const LATER = new Set(['needs', 'stages'])

/**
 * Checks, before anything starts, what would otherwise fail a job minutes into a run:
 * every image is made ready (pulled or built, once each), and every host path mounted
 * exists. Returns one line per problem, by job instance id. Values that depend on
 * upstream outputs cannot be known yet, and a job with its own `if:` may never run: both
 * are left to the job, when it starts.
 */
export async function preflight(
  jobs: readonly PlannedJob[],
  ctx: PreflightContext
): Promise<Map<string, string>> {
  const problems = new Map<string, string>()
  const checks: Promise<void>[] = []
  for (const job of jobs) {
    // A job with its own `if:` may never run: its image is got ready only if it starts.
    if (job.job.if !== undefined) continue
    for (const instance of job.instances) {
      const scope = expressionScope({
        params: ctx.params,
        run_id: ctx.runId,
        matrix: instance.matrix,
        job: { id: job.id, instance: instance.id }
      })
      const problem = (message: string) => {
        if (!problems.has(instance.id)) problems.set(instance.id, message)
      }
      const renderers = valueRenderers(scope, {
        variables: ctx.variables,
        env: ctx.env,
        deferred: LATER,
        onMissingVar: () => {}
      })
      let planned
      try {
        planned = planContainer(instance, { ...ctx, ...renderers })
      } catch {
        // A value that is only known later (`memory: {{ needs.x.outputs.m }}`) cannot be
        // planned yet; the job plans it, and reports what is wrong, when it starts.
        continue
      }
      const host = job.job.container.docker_host
      if (host !== undefined && !sameEngine(host, ctx.engine)) {
        const at = job.job.position
        problem(
          `${at.file}:${at.line}:${at.col}: jobs.${job.id}.runs-on.with.docker_host '${host}' is not this run's engine (${ctx.engine}): a run uses one engine for every job (its workspace, cleanup and checks are whole); leave it out, or point DOCKER_HOST (or --backend) at it`
        )
        continue
      }
      const cpus = planned.resources.cpus
      if (ctx.cpus !== undefined && cpus !== undefined && cpus > ctx.cpus) {
        problem(tooManyCpus(job.job, cpus, ctx.cpus))
        continue
      }
      const network = servicesNetworkName(ctx.runId, instance.slug)
      const services = Object.keys(job.job.services).map((key) =>
        planService(instance, key, { ...ctx, ...renderers, network })
      )
      checks.push(
        checkInstance(planned, services, network, ctx).catch((e: Error) => problem(e.message))
      )
    }
  }
  await Promise.all(checks)
  return problems
}

/** Whether a `docker_host` names the engine a backend is at (`where()`, perhaps with its context). */
function sameEngine(host: string, where: string): boolean {
  const bare = (text: string) => text.replace(/ \(context .*\)$/, '').replace(/\/+$/, '')
  return bare(host) === bare(where)
}

/** The engine would refuse the limit with its own words; these name the key and its line. */
function tooManyCpus(job: JobSpec, cpus: number, engine: number): string {
  const at = job.container.cpuPosition
  const where = at ? `${at.file}:${at.line}:${at.col}: ` : ''
  return `${where}jobs.${job.id}.runs-on.with.resources.cpu asks for ${cpus} CPUs; the engine has ${engine}`
}

/**
 * One instance's checks: the untrusted guard first (nothing it refuses is built or
 * pulled), then its mount sources (a job that cannot start pulls nothing), then its
 * images, each awaited to its end so that no pull still prints once the run has ended.
 */
async function checkInstance(
  planned: ContainerPlan,
  services: ContainerPlan[],
  network: string,
  ctx: PreflightContext
): Promise<void> {
  const known = (p: ContainerPlan) => !JSON.stringify(p).includes('{{')
  if (known(planned)) await ctx.guard(planned)
  for (const service of services.filter(known)) await ctx.guard(service, [network])
  for (const mount of [planned, ...services].flatMap((p) => p.mounts)) {
    if (mount.type !== 'bind' || mount.source.includes('{{')) continue
    await stat(mount.source).catch(() => {
      throw new Error(
        `mount source ${mount.source} does not exist on this machine (mounted at ${mount.target})`
      )
    })
  }
  const images = [planned.image, ...services.map((s) => s.image)].filter(
    (image) => !image.ref.includes('{{')
  )
  const settled = await Promise.allSettled(images.map((image) => ctx.images.prepare(image)))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
}
