import path from 'node:path'
import type { JobSpec } from '../spec/pipeline-types.js'
import { parseCpu, parseMemory } from '../spec/quantities.js'
import { CTR_ROOT, WORKSPACE_DIR } from './container-paths.js'
import { LABEL_JOB, runLabels } from './labels.js'

/** The subset of the Engine API's `POST /containers/create` body that jobs use. */
export interface ContainerCreateBody {
  Image: string
  Env: string[]
  Labels: Record<string, string>
  WorkingDir?: string
  User?: string
  Entrypoint?: string[]
  Cmd?: string[]
  AttachStdout?: boolean
  AttachStderr?: boolean
  HostConfig: {
    Mounts: Array<{ Type: 'bind' | 'volume'; Source: string; Target: string; ReadOnly: boolean }>
    Memory?: number
    MemorySwap?: number
    NanoCpus?: number
    CpusetCpus?: string
  }
}

export interface PlannedContainer {
  name: string
  body: ContainerCreateBody
}

export interface ContainerPlanContext {
  runId: string
  /** Folder of the pipeline file: relative mount sources resolve against it. */
  pipelineDir: string
  workflowVolume: string
  /** Renders `{{ }}` and `${VAR}` in a value of `runs-on.with`. */
  renderValue: (text: string) => string
}

/** A value in `runs-on.with` that is wrong once its expressions are rendered. */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError'
}

/**
 * Maps a job's `runs-on.with` to the Engine API's create body: a pure function, so the
 * mapping from the file's words to Docker's is tested as a table.
 *
 * A job with stages gets a container that idles (`tail -f /dev/null`, as GitHub's
 * container jobs do) while its stages are exec'd into it; a job without stages runs the
 * image's own entrypoint with `command`.
 */
export function planContainer(job: JobSpec, ctx: ContainerPlanContext): PlannedContainer {
  const spec = job.container
  const r = ctx.renderValue
  const environment = Object.entries(spec.environment).map(([k, v]) => `${k}=${r(v)}`)
  const body: ContainerCreateBody = {
    Image: r(spec.image),
    Env: [
      ...environment,
      `CTR_WORKSPACE=${WORKSPACE_DIR}`,
      `CTR_RUN_ID=${ctx.runId}`,
      `CTR_JOB_ID=${job.id}`
    ],
    Labels: { ...runLabels(ctx.runId), [LABEL_JOB]: job.id },
    HostConfig: {
      Mounts: [
        { Type: 'volume', Source: ctx.workflowVolume, Target: CTR_ROOT, ReadOnly: false },
        ...spec.volumes.map((v) => ({
          Type: 'bind' as const,
          Source: path.resolve(ctx.pipelineDir, r(v.source)),
          Target: r(v.target),
          ReadOnly: v.mode === 'ro'
        }))
      ]
    }
  }
  if (spec.working_dir) body.WorkingDir = r(spec.working_dir)
  if (spec.user) body.User = r(spec.user)
  if (job.stages) {
    body.Entrypoint = ['tail']
    body.Cmd = ['-f', '/dev/null']
  } else {
    if (spec.entrypoint) body.Entrypoint = spec.entrypoint.map(r)
    if (spec.command) body.Cmd = spec.command.map(r)
    body.AttachStdout = true
    body.AttachStderr = true
  }
  const { memory, cpu, cpuset_cpus, memswap_limit } = spec.resources
  if (memory) body.HostConfig.Memory = quantity(r(memory), parseMemory, 'resources.memory')
  if (memswap_limit) {
    const text = r(memswap_limit)
    body.HostConfig.MemorySwap =
      text === '-1' ? -1 : quantity(text, parseMemory, 'resources.memswap_limit')
  }
  if (cpu) body.HostConfig.NanoCpus = quantity(r(cpu), parseCpu, 'resources.cpu')
  if (cpuset_cpus) body.HostConfig.CpusetCpus = r(cpuset_cpus)
  return { name: containerName(job, ctx), body }
}

function quantity(text: string, parse: (t: string) => number | undefined, key: string): number {
  const value = parse(text)
  if (value === undefined) throw new ContainerConfigError(`${key}: '${text}' is not valid`)
  return value
}

function containerName(job: JobSpec, ctx: ContainerPlanContext): string {
  const requested = job.container.container_name
  const name = requested
    ? ctx.renderValue(requested.replaceAll('{run_id}', ctx.runId))
    : `ctr-${ctx.runId}-${job.id}`
  const safe = name.replace(/[^a-zA-Z0-9_.-]/g, '-').replace(/^[^a-zA-Z0-9]+/, '')
  if (!safe) throw new ContainerConfigError(`container_name '${name}' has no usable characters`)
  return safe
}
