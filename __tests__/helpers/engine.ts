import Docker from 'dockerode'
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Backend } from '../../src/backend/backend.js'
import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import { runPipeline } from '../../src/scheduler/pipeline-runner.js'
import { LABEL_MANAGED } from '../../src/plan/labels.js'
import { newRunId } from '../../src/scheduler/run-id.js'
import type { RunResult } from '../../src/scheduler/run-result.js'
import { ConsoleReporter } from '../../src/report/console-reporter.js'
import { loadPipelineFile } from '../../src/pipeline/load-pipeline.js'
import { preparePlan } from '../../src/app/prepare-plan.js'

/** Direct Engine API access, for asserting what the product did. */
export const docker = new Docker()

export const BUSYBOX = 'ctr-fixtures/busybox:latest'
export const PYTHON = 'ctr-fixtures/python:3.11'

/**
 * Counts containers, volumes, networks and built images labelled by ctr-pipeline (one run,
 * or any), and volumes named after a run that lack the label.
 */
export async function leftovers(runId?: string) {
  const label = runId ? `ctr-pipeline.run-id=${runId}` : 'ctr-pipeline.managed=true'
  const filters = JSON.stringify({ label: [label] })
  const [containers, volumes, networks, images] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listVolumes({ filters }),
    docker.listNetworks({ filters }),
    docker.listImages({ filters: JSON.stringify({ reference: ['ctr-pipeline-build/*'] }) })
  ])
  // A volume the engine made for a mount of a removed one has the run's name but no label.
  const named = (await docker.listVolumes()).Volumes.filter(
    (v) => !v.Labels?.[LABEL_MANAGED] && v.Name.startsWith(`ctr-pipeline-${runId ?? ''}`)
  )
  return {
    containers: containers.length,
    volumes: (volumes.Volumes?.length ?? 0) + named.length,
    networks: networks.length,
    // Built images are tagged for their run, not labelled.
    images: images
      .flatMap((i) => i.RepoTags ?? [])
      .filter((tag) => !runId || tag.includes(`:${runId}-`)).length
  }
}

export const NOTHING_LEFT = { containers: 0, volumes: 0, networks: 0, images: 0 }

export function tempDir(prefix = 'ctr-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
}

/** Writes a pipeline file into a folder of its own; returns its path. */
export function pipelineFile(yaml: string, name = 'pipeline.yml'): string {
  const file = path.join(tempDir(), name)
  writeFileSync(file, yaml)
  return file
}

export interface RunOutcome {
  result: RunResult
  lines: string[]
  runId: string
}

/** Writes `yaml` as pipeline.yml in `dir` and runs it on the real engine. */
export async function runYaml(
  yaml: string,
  options: {
    dir?: string
    params?: Record<string, unknown>
    keep?: boolean
    env?: Record<string, string>
    maxParallel?: number
    artifactsDir?: string
    signal?: AbortSignal
    backend?: Backend
    changedFiles?: string[]
    /** Untrusted mode, with the pipeline's folder as the workspace. */
    untrusted?: boolean
    /** Untrusted: the variables `${VAR}` may read (default: every name in `env`). */
    allowedVariables?: string[]
  } = {}
): Promise<RunOutcome> {
  const dir = options.dir ?? tempDir()
  const file = path.join(dir, 'pipeline.yml')
  writeFileSync(file, yaml)
  const pipeline = await loadPipelineFile(file)
  const lines: string[] = []
  const runId = newRunId()
  const { params, plan } = preparePlan(pipeline, options.params ?? {})
  const result = await runPipeline({
    plan,
    params,
    runId,
    backend: options.backend ?? new DockerBackend(docker),
    reporter: new ConsoleReporter({ write: (line) => lines.push(line) }),
    env: { ...process.env, ...options.env },
    keep: options.keep,
    maxParallel: options.maxParallel,
    artifactsDir: options.artifactsDir ?? path.join(dir, 'artifacts'),
    signal: options.signal,
    changedFiles: options.changedFiles,
    untrusted: options.untrusted
      ? {
          workspace: dir,
          allowedVariables: options.allowedVariables ?? Object.keys(options.env ?? {})
        }
      : undefined
  })
  return { result, lines, runId }
}

/** When a container ran, from the engine's inspect data (ms since the epoch). */
export interface RunInterval {
  job: string
  instance: string
  start: number
  end: number
}

/**
 * The start and finish times of every container of a run that was kept (`keep: true`),
 * read from the engine, then removes the run's resources.
 */
export async function intervalsOf(runId: string): Promise<RunInterval[]> {
  const filters = JSON.stringify({ label: [`ctr-pipeline.run-id=${runId}`] })
  const containers = await docker.listContainers({ all: true, filters })
  const intervals = await Promise.all(
    containers.map(async (c) => {
      const { State, Config } = await docker.getContainer(c.Id).inspect()
      return {
        job: Config.Labels['ctr-pipeline.job'],
        instance: Config.Labels['ctr-pipeline.instance'],
        start: Date.parse(State.StartedAt),
        end: Date.parse(State.FinishedAt)
      }
    })
  )
  await new DockerBackend(docker).sweep(runId)
  return intervals
}

/** The most intervals that were open at one instant. */
export function peakOverlap(intervals: RunInterval[]): number {
  const events = intervals.flatMap((i) => [
    [i.start, 1],
    [i.end, -1]
  ])
  // At equal times, a finish comes before a start: back to back is not side by side.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let open = 0
  let peak = 0
  for (const [, delta] of events) peak = Math.max(peak, (open += delta))
  return peak
}

/** The files under a folder, relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .sort()
}
