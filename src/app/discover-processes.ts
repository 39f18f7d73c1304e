import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import pLimit from 'p-limit'
import type { Backend } from '../backend/backend.js'
import type { EngineImage } from '../backend/engine/connection.js'
import type { ContainerPlan } from '../plan/container-plan.js'
import { runLabels } from '../plan/labels.js'
import { parseDescription, processesOf, type ProcessDescription } from '../plan/processes.js'

/** One process an image offers, described, or broken with the reason. */
export interface DiscoveredProcess {
  name: string
  /** The image's first name, else its id. */
  image: string
  image_id: string
  command: string
  description?: string
  inputs?: Record<string, unknown>
  outputs?: Record<string, unknown>
  /** Why it could not be described; the other fields are then missing. */
  broken?: string
}

/** What discovery needs of the engine: its images, and a backend to run describe calls. */
export interface ProcessEngine {
  images(ref?: string): Promise<EngineImage[]>
  backend: Backend
}

/** How many describe calls run at once: each is a short container. */
const DESCRIBE_CONCURRENCY = 4

/**
 * What a describe call may take: the image is anyone's, so its command may hang, fork or
 * print forever. It runs with no network, these limits and no capabilities, and is killed
 * after DESCRIBE_TIMEOUT_MS or past DESCRIBE_OUTPUT_BYTES of stdout.
 */
export const DESCRIBE_TIMEOUT_MS = 30_000
const DESCRIBE_OUTPUT_BYTES = 1024 * 1024
const DESCRIBE_LIMITS = { memoryBytes: 256 * 1024 * 1024, cpus: 1, pidsLimit: 64 }

/**
 * Finds the processes on the engine's images (or on `refs`), seed 003's way: every
 * `process.NAME=COMMAND` label, described by running COMMAND with nothing on stdin in a
 * container of its image (no network, labelled, removed), calls in parallel. What an
 * image id said is kept in `cacheDir`: an id is its content, so it never changes.
 */
export async function discoverProcesses(
  engine: ProcessEngine,
  refs: readonly string[],
  cacheDir: string,
  timeoutMs = DESCRIBE_TIMEOUT_MS
): Promise<DiscoveredProcess[]> {
  const images =
    refs.length > 0
      ? (await Promise.all(refs.map((ref) => engine.images(ref)))).flat()
      : await engine.images()
  const limit = pLimit(DESCRIBE_CONCURRENCY)
  const runId = `processes-${randomBytes(3).toString('hex')}`
  // Interrupted meanwhile: its containers are removed before the process ends.
  const onSignal = () => {
    const exit = () => process.exit(130)
    setTimeout(exit, 2000).unref()
    void engine.backend.sweep(runId).then(exit, exit)
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, onSignal)
  try {
    const found = await Promise.all(
      images.flatMap((image) =>
        Object.entries(processesOf(image.labels)).map(([name, command]) =>
          limit(() =>
            described(engine.backend, image, name, command, { runId, cacheDir, timeoutMs })
          )
        )
      )
    )
    return found.sort((a, b) => a.name.localeCompare(b.name) || a.image.localeCompare(b.image))
  } finally {
    for (const signal of signals) process.off(signal, onSignal)
    await engine.backend.sweep(runId)
  }
}

async function described(
  backend: Backend,
  image: EngineImage,
  name: string,
  command: string,
  { runId, cacheDir, timeoutMs }: { runId: string; cacheDir: string; timeoutMs: number }
): Promise<DiscoveredProcess> {
  const base = { name, image: image.refs[0] ?? image.id, image_id: image.id, command }
  const key = createHash('sha256').update(`${image.id}\n${command}`).digest('hex')
  const cached = path.join(cacheDir, `${key}.json`)
  const known = await readFile(cached, 'utf8').then(
    (text) => JSON.parse(text) as ProcessDescription | { broken: string },
    () => undefined
  )
  if (known) return { ...base, ...known }
  let said: ProcessDescription | { broken: string }
  try {
    said = parseDescription(await describeOnce(backend, image.id, command, runId, timeoutMs))
  } catch (error) {
    // A call that was stopped may answer next time (a busy engine): it is not kept.
    if (error instanceof DescribeStopped) return { ...base, broken: error.message }
    said = { broken: (error as Error).message }
  }
  await mkdir(cacheDir, { recursive: true })
  await writeFile(cached, JSON.stringify(said))
  return { ...base, ...said }
}

/** A describe call killed for its time or its output. */
class DescribeStopped extends Error {}

/** Runs `command` with nothing on stdin in a throwaway container of the image: its stdout. */
async function describeOnce(
  backend: Backend,
  imageId: string,
  command: string,
  runId: string,
  timeoutMs: number
): Promise<string> {
  const plan: ContainerPlan = {
    runId,
    name: `ctr-${runId}-${randomBytes(4).toString('hex')}`,
    image: { kind: 'pull', ref: imageId, policy: 'never' },
    runs: 'command',
    entrypoint: ['sh', '-c', `${command} </dev/null`],
    env: {},
    labels: runLabels(runId),
    mounts: [],
    resources: { ...DESCRIBE_LIMITS, ulimits: [] },
    network: { mode: 'none', aliases: [], ports: [], extraHosts: [], dns: [] },
    security: {
      privileged: false,
      capAdd: [],
      capDrop: ['ALL'],
      readOnlyRootfs: false,
      noNewPrivileges: true
    }
  }
  const id = await backend.createContainer(plan)
  let stdout = ''
  let stderr = ''
  let stopped: string | undefined
  const stop = (why: string) => {
    stopped ??= why
    void backend.kill(id).catch(() => undefined)
  }
  const timer = setTimeout(() => stop(`did not answer within ${timeoutMs / 1000} s`), timeoutMs)
  try {
    const exit = await backend.runContainer(id, (stream, chunk) => {
      if (stream === 'stdout') stdout += chunk.toString('utf8')
      else stderr = (stderr + chunk.toString('utf8')).slice(-DESCRIBE_OUTPUT_BYTES)
      if (stdout.length > DESCRIBE_OUTPUT_BYTES)
        stop(`printed more than ${DESCRIBE_OUTPUT_BYTES} bytes`)
    })
    if (stopped) throw new DescribeStopped(`'${command}' with nothing on stdin ${stopped}: killed`)
    if (exit.exitCode !== 0)
      throw new Error(
        `'${command}' with nothing on stdin exited with ${exit.exitCode}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-1)[0]}` : ''}`
      )
    return stdout
  } finally {
    clearTimeout(timer)
    await backend.removeContainer(id)
  }
}

/** Processes as lines for a person: name, image, description, then inputs and outputs. */
export function processesText(found: readonly DiscoveredProcess[]): string {
  if (found.length === 0) return 'no image on the engine has process.NAME labels'
  return found
    .map((p) =>
      p.broken
        ? `${p.name}  ${p.image}  BROKEN: ${p.broken}`
        : `${p.name}  ${p.image}  ${p.description}\n  inputs:  ${JSON.stringify(p.inputs)}\n  outputs: ${JSON.stringify(p.outputs)}`
    )
    .join('\n')
}
