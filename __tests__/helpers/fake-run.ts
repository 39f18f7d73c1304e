import { preparePlan } from '../../src/app/prepare-plan.js'
import { FakeBackend } from '../../src/backend/fake/fake-backend.js'
import type { FakeScript } from '../../src/backend/fake/fake-script.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { ConsoleReporter } from '../../src/report/console-reporter.js'
import { runPipeline } from '../../src/scheduler/pipeline-runner.js'
import type { RunResult } from '../../src/scheduler/run-result.js'

/** Runs a pipeline on the fake backend; resolves to the result, the backend and the log. */
export async function run(
  yaml: string,
  script: FakeScript = {},
  options: {
    maxParallel?: number
    signal?: AbortSignal
    backend?: FakeBackend
    keep?: boolean
    env?: Record<string, string>
  } = {}
): Promise<{ result: RunResult; backend: FakeBackend; lines: string[] }> {
  const pipeline = parsePipeline(yaml, 'pipeline.yml', '/repo')
  const { params, plan } = preparePlan(pipeline, {})
  const backend = options.backend ?? new FakeBackend(script)
  const lines: string[] = []
  const result = await runPipeline({
    plan,
    params,
    runId: 'r1',
    backend,
    reporter: new ConsoleReporter({ write: (line) => lines.push(line) }),
    env: options.env ?? {},
    maxParallel: options.maxParallel ?? 4,
    artifactsDir: '/tmp/ctr-fake-artifacts',
    signal: options.signal,
    keep: options.keep
  })
  return { result, backend, lines }
}

/** A one-stage job on image `img`, with more keys after its stages. */
export const job = (extra = '') =>
  `{runs-on: {with: {image: img}}, stages: [{name: s, type: sh, run: work}]${extra}}`

/** When each instance's stage ran, from the fake's records: [first run, last exit]. */
export function spans(backend: FakeBackend): Map<string, [number, number]> {
  const result = new Map<string, [number, number]>()
  for (const e of backend.events) {
    if (!e.instance || (e.call !== 'run' && e.call !== 'exit' && e.call !== 'killed')) continue
    const span = result.get(e.instance) ?? [e.at, e.at]
    if (e.call === 'run') span[0] = Math.min(span[0], e.at)
    else span[1] = e.at
    result.set(e.instance, span)
  }
  return result
}

/** Each job's status, by id. */
export const statuses = (result: RunResult) =>
  Object.fromEntries(result.jobs.map((j) => [j.id, j.status]))
