import Docker from 'dockerode'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DockerodeClient } from '../../src/engine/docker-client.js'
import { runPipeline } from '../../src/engine/pipeline-runner.js'
import { newRunId } from '../../src/engine/run-id.js'
import type { RunResult } from '../../src/engine/run-result.js'
import { ConsoleReporter } from '../../src/report/console-reporter.js'
import { loadPipelineFile } from '../../src/spec/load-pipeline.js'
import { preparePlan } from '../../src/app/prepare-plan.js'

/** Direct Engine API access, for asserting what the product did. */
export const docker = new Docker()

export const BUSYBOX = 'ctr-fixtures/busybox:latest'
export const PYTHON = 'ctr-fixtures/python:3.11'

/** Counts containers, volumes and networks labelled by ctr-pipeline (for one run, or any). */
export async function leftovers(runId?: string) {
  const label = runId ? `ctr-pipeline.run-id=${runId}` : 'ctr-pipeline.managed=true'
  const filters = JSON.stringify({ label: [label] })
  const [containers, volumes, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listVolumes({ filters }),
    docker.listNetworks({ filters })
  ])
  return {
    containers: containers.length,
    volumes: volumes.Volumes?.length ?? 0,
    networks: networks.length
  }
}

export const NOTHING_LEFT = { containers: 0, volumes: 0, networks: 0 }

export function tempDir(prefix = 'ctr-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
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
    client: new DockerodeClient(docker),
    reporter: new ConsoleReporter((line) => lines.push(line)),
    env: { ...process.env, ...options.env },
    keep: options.keep
  })
  return { result, lines, runId }
}
