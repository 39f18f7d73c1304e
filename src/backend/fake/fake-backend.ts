import type { ContainerPlan } from '../../plan/container-plan.js'
import type { ImageSource } from '../../plan/image-plan.js'
import { LABEL_INSTANCE, LABEL_JOB, LABEL_RUN_ID } from '../../plan/labels.js'
import type { StageBatch } from '../../plan/stage-batches.js'
import { RETRY_WRAPPER_NAME } from '../../plan/stage-retry.js'
import {
  BackendError,
  EngineLostError,
  type Backend,
  type ImageRun,
  type ContainerExit,
  type ContainerHealth,
  type KeptResources,
  type OutputHandler,
  type RemovedCounts,
  type RunSetup
} from '../backend.js'
import type { FakeEvent, FakeScript } from './fake-script.js'

interface FakeContainer {
  id: string
  plan: ContainerPlan
  running: boolean
  removed: boolean
  oomKills: number
  /** Aborted when the container is killed: what runs in it ends at once, with 137. */
  kill: AbortController
  /** Aborted when its stage is killed alone (`stageKills`): that stage ends with 137. */
  stageKill: AbortController
}

/**
 * An in-memory Backend, as woodpecker's dummy backend is for its runner: containers,
 * volumes and networks are records, stages are played from a script (exit code, output,
 * delay, OOM, outputs), and every call is recorded, so the scheduler's rules are tested
 * without an engine. It keeps the guarantees documented on Backend: a kill ends what runs
 * at once, removals are idempotent, the sweep goes by the run's label, and after `lose`
 * every call fails with EngineLostError.
 */
export class FakeBackend implements Backend {
  readonly name = 'fake'
  readonly events: FakeEvent[] = []
  /** Every container plan it was given, in order. */
  readonly plans: ContainerPlan[] = []
  private readonly containers = new Map<string, FakeContainer>()
  private readonly files = new Map<string, string>()
  private readonly runs = new Map<string, number>()
  private readonly volumes = new Set<string>()
  private readonly networks = new Set<string>()
  private readonly lostListeners = new Set<(error: EngineLostError) => void>()
  private lost: EngineLostError | undefined
  private running = 0
  private nextId = 1
  /** The most stages (or own commands) that ran at the same moment. */
  peakRunning = 0

  readonly cpuCount?: () => Promise<number>

  where(): string {
    return 'memory'
  }

  constructor(private readonly script: FakeScript = {}) {
    const { cpus } = script
    if (cpus !== undefined) this.cpuCount = () => Promise.resolve(cpus)
  }

  /** Loses the backend now: listeners hear it, later calls fail, running processes end. */
  lose(message = 'the fake backend went away'): void {
    this.lost = new EngineLostError(message)
    for (const listener of this.lostListeners) listener(this.lost)
    for (const container of this.containers.values()) container.kill.abort()
  }

  /** Containers, volumes and networks that exist now. */
  leftovers(): { containers: number; volumes: number; networks: number } {
    const containers = [...this.containers.values()].filter((c) => !c.removed).length
    return { containers, volumes: this.volumes.size, networks: this.networks.size }
  }

  /** The calls made, as `call instance/stage` strings, in order. */
  calls(filter?: (event: FakeEvent) => boolean): string[] {
    return this.events
      .filter(filter ?? (() => true))
      .map((e) => [e.call, e.instance, e.stage].filter(Boolean).join(' '))
  }

  private record(call: string, container?: FakeContainer, stage?: string): void {
    this.check()
    const instance = container?.plan.labels[LABEL_INSTANCE]
    this.events.push({
      call,
      at: performance.now(),
      ...(instance ? { instance } : {}),
      ...(stage ? { stage } : {})
    })
  }

  private check(): void {
    if (this.lost) throw this.lost
  }

  private container(id: string): FakeContainer {
    const container = this.containers.get(id)
    if (!container || container.removed) throw new BackendError(`no such container: ${id}`, 404)
    return container
  }

  async ping(): Promise<void> {
    this.check()
  }

  async setupRun(run: RunSetup): Promise<void> {
    this.record('setupRun')
    for (const volume of run.volumes) {
      if (!volume.external) this.volumes.add(volume.name)
      else if (!this.script.volumes?.includes(volume.name))
        throw new Error(
          `volume '${volume.key}' is external, but there is no volume '${volume.name}'`
        )
    }
    this.networks.add(run.network.name)
  }

  async prepareImage(image: ImageSource, { events }: ImageRun): Promise<string | undefined> {
    this.record(`prepareImage ${image.ref}`)
    const error = this.script.imageErrors?.[image.ref]
    if (error) throw new Error(error)
    events.info(`image ${image.ref} ready`)
    return image.kind === 'build' && image.push ? `${image.name}@sha256:fake` : undefined
  }

  async imageLabels(ref: string): Promise<Record<string, string>> {
    return this.script.imageLabels?.[ref] ?? {}
  }

  async createContainer(plan: ContainerPlan): Promise<string> {
    const id = `fake-${this.nextId++}`
    const container: FakeContainer = {
      id,
      plan,
      running: false,
      removed: false,
      oomKills: 0,
      kill: new AbortController(),
      stageKill: new AbortController()
    }
    this.containers.set(id, container)
    this.plans.push(plan)
    this.record('create', container)
    return id
  }

  async makeDirectories(containerId: string): Promise<void> {
    this.record('makeDirectories', this.container(containerId))
  }

  async startContainer(containerId: string): Promise<void> {
    const container = this.container(containerId)
    this.record('start', container)
    container.running = true
    if (container.kill.signal.aborted) container.kill = new AbortController()
  }

  async runContainer(containerId: string, onOutput: OutputHandler): Promise<ContainerExit> {
    await this.startContainer(containerId)
    const container = this.container(containerId)
    const exit = await this.play(container, undefined, onOutput)
    container.running = false
    return { exitCode: exit.exitCode, oomKilled: exit.oom }
  }

  async exec(
    containerId: string,
    cmd: string[],
    env: string[],
    onOutput: OutputHandler
  ): Promise<number> {
    const container = this.container(containerId)
    if (!container.running) throw new BackendError(`container ${containerId} is not running`, 409)
    // A retry's wrapper (scheduler/scripts/retry-stage.sh) empties the stage's files first.
    if (cmd[3] === RETRY_WRAPPER_NAME)
      for (const name of ['CTR_OUTPUT', 'CTR_ANNOTATIONS']) {
        const file = env.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1)
        if (file) this.files.delete(file)
      }
    const exit = await this.play(container, env, onOutput)
    if (exit.failsAfter) throw new Error(exit.failsAfter)
    return exit.exitCode
  }

  /** Plays a batch by its fields: each stage, then its end line on both streams. */
  async runBatch(containerId: string, batch: StageBatch, onOutput: OutputHandler): Promise<number> {
    const container = this.container(containerId)
    if (!container.running) throw new BackendError(`container ${containerId} is not running`, 409)
    let failsAfter: string | undefined
    for (const [index, stage] of batch.stages.entries()) {
      const exit = await this.play(container, stage.env, onOutput)
      if (container.kill.signal.aborted) return 137
      failsAfter ??= exit.failsAfter
      const wrote = this.files.has(`${stage.stateDir}/output`) ? 1 : 0
      const end = `\n${batch.marker} ${index} ${exit.exitCode} ${wrote}\n`
      await onOutput('stdout', Buffer.from(end))
      await onOutput('stderr', Buffer.from(end))
      if (exit.exitCode !== 0 && !stage.continueOnError) break
    }
    if (failsAfter) throw new Error(failsAfter)
    return 0
  }

  /** Runs one scripted process in a container: its delay (cut short by a kill), output, exit. */
  private async play(
    container: FakeContainer,
    env: string[] | undefined,
    onOutput: OutputHandler
  ): Promise<{ exitCode: number; oom: boolean; failsAfter?: string }> {
    const vars = new Map(
      (env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])
    )
    const stage = vars.get('CTR_STAGE_ID')
    const job = container.plan.labels[LABEL_JOB]
    const instance = container.plan.labels[LABEL_INSTANCE]
    const key = `${instance}/${stage ?? ''}`
    const run = (this.runs.get(key) ?? 0) + 1
    this.runs.set(key, run)
    const script =
      this.script.process?.({ job, instance, stage, run, env: Object.fromEntries(vars) }) ?? {}
    this.record('run', container, stage)
    this.running++
    this.peakRunning = Math.max(this.peakRunning, this.running)
    try {
      const killed = AbortSignal.any([container.kill.signal, container.stageKill.signal])
      if (script.delayMs)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, script.delayMs)
          killed.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
        })
      if (killed.aborted) {
        this.record('killed', container, stage)
        // A hand-off after the command fails the same whether or not it was killed.
        return { exitCode: 137, oom: false, failsAfter: script.failsAfter }
      }
      if (script.stdout) await onOutput('stdout', Buffer.from(script.stdout))
      if (script.stderr) await onOutput('stderr', Buffer.from(script.stderr))
      const outputFile = vars.get('CTR_OUTPUT')
      if (outputFile && script.outputs)
        this.files.set(
          outputFile,
          Object.entries(script.outputs)
            .map(([k, v]) => `${k}=${v}\n`)
            .join('')
        )
      if (script.oom) container.oomKills++
      this.record('exit', container, stage)
      return {
        exitCode: script.oom ? 137 : (script.exitCode ?? 0),
        oom: script.oom ?? false,
        ...(script.failsAfter ? { failsAfter: script.failsAfter } : {})
      }
    } finally {
      this.running--
    }
  }

  async memoryKills(containerId: string): Promise<number | undefined> {
    return this.container(containerId).oomKills
  }

  async readFiles(_containerId: string, dirPath: string): Promise<Map<string, string>> {
    this.check()
    const files = new Map<string, string>()
    for (const [file, text] of this.files) {
      if (file.startsWith(`${dirPath}/`)) files.set(file.slice(dirPath.length + 1), text)
    }
    return files
  }

  async archive(): Promise<undefined> {
    this.check()
    return undefined
  }

  async workingDir(): Promise<string> {
    this.check()
    return '/'
  }

  async createNetwork(name: string): Promise<void> {
    this.record(`createNetwork ${name}`)
    this.networks.add(name)
  }

  async connectNetwork(containerId: string): Promise<void> {
    this.record('connectNetwork', this.container(containerId))
  }

  async removeNetwork(name: string): Promise<void> {
    this.record(`removeNetwork ${name}`)
    this.networks.delete(name)
  }

  async health(containerId: string): Promise<ContainerHealth> {
    const container = this.container(containerId)
    return { running: container.running, exitCode: 0, health: 'none' }
  }

  async logTail(): Promise<string[]> {
    this.check()
    return []
  }

  async kill(containerId: string): Promise<void> {
    const container = this.containers.get(containerId)
    this.record('kill', container)
    if (!container || container.removed) return
    container.running = false
    container.kill.abort()
  }

  async killStage(containerId: string): Promise<'stage' | 'container'> {
    const container = this.containers.get(containerId)
    if (!this.script.stageKills || !container?.running) {
      await this.kill(containerId)
      return 'container'
    }
    this.record('killStage', container)
    const stage = container.stageKill
    container.stageKill = new AbortController()
    stage.abort()
    return 'stage'
  }

  async removeContainer(containerId: string): Promise<void> {
    const container = this.containers.get(containerId)
    this.record('remove', container)
    if (!container || container.removed) return
    container.kill.abort()
    container.running = false
    container.removed = true
  }

  async killRun(runId: string): Promise<void> {
    this.record('killRun')
    for (const container of this.containers.values()) {
      if (container.plan.labels[LABEL_RUN_ID] === runId && container.running)
        await this.kill(container.id)
    }
  }

  async kept(runId: string): Promise<KeptResources> {
    this.record('kept')
    return {
      containers: [...this.containers.values()]
        .filter((c) => !c.removed && c.plan.labels[LABEL_RUN_ID] === runId)
        .map((c) => c.plan.name)
        .sort(),
      volumes: [...this.volumes].filter((v) => v.includes(runId)).sort(),
      networks: [...this.networks].filter((n) => n.includes(runId)).sort()
    }
  }

  async sweep(runId?: string): Promise<RemovedCounts> {
    this.record('sweep')
    const ours = [...this.containers.values()].filter(
      (c) => !c.removed && (!runId || c.plan.labels[LABEL_RUN_ID] === runId)
    )
    for (const container of ours) await this.removeContainer(container.id)
    const volumes = [...this.volumes].filter((v) => !runId || v.includes(runId))
    const networks = [...this.networks].filter((n) => !runId || n.includes(runId))
    for (const v of volumes) this.volumes.delete(v)
    for (const n of networks) this.networks.delete(n)
    return {
      containers: ours.length,
      volumes: volumes.length,
      networks: networks.length,
      images: 0
    }
  }

  onLost(listener: (error: EngineLostError) => void): () => void {
    this.lostListeners.add(listener)
    return () => this.lostListeners.delete(listener)
  }

  liveContainers(): number {
    return [...this.containers.values()].filter((c) => !c.removed).length
  }
}
