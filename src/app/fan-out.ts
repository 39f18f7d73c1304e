import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { PipelinePlan } from '../plan/pipeline-plan.js'
import { notRun } from '../scheduler/job-scheduling.js'
import type { InstanceRun } from '../scheduler/pipeline-runner.js'
import type { JobResult, RunResult, Status } from '../scheduler/run-result.js'
import { writeFileReplacing } from '../scheduler/host-files.js'
import { InputError } from '../pipeline/input-error.js'

/**
 * A fan-out folder (`run --instance ID --inputs-from DIR`), as one runner of a GitHub
 * fan-out hands it to the next through artifacts: `results/INSTANCE.json`, the result
 * document of each instance that ran upstream, and `workspace/`, what they left in the
 * workspace. Downloading the artifacts of the jobs a job needs into one folder gives it
 * everything upstream, since each uploaded the folder it was given, plus its own.
 */
const RESULTS_DIR = 'results'
const WORKSPACE_DIR_NAME = 'workspace'

/** The instance run of `run --instance SLUG --inputs-from DIR`: reads DIR's result documents. */
export async function readFanOutFolder(dir: string, slug: string): Promise<InstanceRun> {
  const workspaceDir = path.resolve(dir, WORKSPACE_DIR_NAME)
  await mkdir(workspaceDir, { recursive: true })
  await mkdir(path.join(dir, RESULTS_DIR), { recursive: true })
  const documents = await readResults([path.join(dir, RESULTS_DIR)], '--inputs-from')
  return { slug, workspaceDir, upstream: documents.flatMap((d) => d.jobs) }
}

/** Writes an instance's result document into its fan-out folder, as `results/SLUG.json`. */
export async function writeInstanceResult(dir: string, slug: string, doc: unknown): Promise<void> {
  await writeResult(path.join(dir, RESULTS_DIR, `${slug}.json`), doc)
}

/** The merged result of the documents under `paths` (mergeResults); `flag` names them in errors. */
export async function mergeResultFiles(
  plan: PipelinePlan,
  paths: readonly string[],
  flag: string
): Promise<RunResult> {
  return mergeResults(plan, await readResults(paths, flag))
}

/** Result documents from files and folders (every `*.json` under them, in name order). */
export async function readResults(paths: readonly string[], flag: string): Promise<RunResult[]> {
  const files: string[] = []
  for (const p of paths) {
    const info = await stat(p).catch(() => {
      throw new InputError(`${flag} ${p}: no such file or folder`)
    })
    if (!info.isDirectory()) files.push(p)
    else
      for (const entry of (await readdir(p, { recursive: true })).sort())
        if (entry.endsWith('.json')) files.push(path.join(p, entry))
  }
  return Promise.all(
    files.map(async (file) => {
      const doc = JSON.parse(await readFile(file, 'utf8')) as Partial<RunResult>
      if (!Array.isArray(doc.jobs) || typeof doc.run_id !== 'string')
        throw new InputError(`${flag}: ${file} is not a ctr-pipeline result document`)
      return doc as RunResult
    })
  )
}

/**
 * One result document from those of a fan-out's instances: each instance once (every
 * downstream runner carries its upstream's documents too), in the plan's order, and the
 * status a single run would have: a failure if any instance failed, else cancelled if
 * any was, else success. An instance that left no document did not run: skipped.
 */
export function mergeResults(plan: PipelinePlan, documents: readonly RunResult[]): RunResult {
  const byInstance = new Map<string, JobResult>()
  for (const doc of documents)
    for (const job of doc.jobs)
      if (!byInstance.has(`${job.job}\n${job.id}`)) byInstance.set(`${job.job}\n${job.id}`, job)
  const jobs = plan.jobs.flatMap((planned) =>
    planned.instances.map(
      (instance): JobResult =>
        byInstance.get(`${planned.id}\n${instance.id}`) ??
        notRun(instance, 'skipped', 'skipped: it left no result (it did not run)')
    )
  )
  const statuses = new Set<Status>(jobs.map((j) => j.status))
  const started = documents.map((d) => Date.parse(d.started_at)).filter(Number.isFinite)
  const ended = documents.map((d) => Date.parse(d.started_at) + d.duration_ms)
  const first = started.length > 0 ? Math.min(...started) : Date.now()
  return {
    run_id: documents[0]?.run_id ?? 'merged',
    pipeline: plan.pipeline.name,
    file: plan.pipeline.file,
    status: statuses.has('failure')
      ? 'failure'
      : statuses.has('cancelled')
        ? 'cancelled'
        : 'success',
    started_at: new Date(first).toISOString(),
    duration_ms: ended.length > 0 ? Math.max(...ended) - first : 0,
    jobs
  }
}

/** Writes a result document as `run --result` does. */
export async function writeResult(file: string, doc: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFileReplacing(file, `${JSON.stringify(doc, null, 2)}\n`)
}
