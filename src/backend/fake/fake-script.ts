/** How one stage (or a job's own command) behaves on the fake backend. */
export interface FakeProcess {
  /** Default 0. */
  exitCode?: number
  stdout?: string
  stderr?: string
  /** How long it runs before it prints and exits (default 0). */
  delayMs?: number
  /** The kernel kills it for memory: exit 137, and the container's OOM count goes up. */
  oom?: boolean
  /** What it writes to `$CTR_OUTPUT`, as `key=value` lines. */
  outputs?: Record<string, string>
  /**
   * The exec that ran it rejects with this once its process (or batch) has ended, as a
   * backend's hand-off of the workspace after the command may fail.
   */
  failsAfter?: string
}

/** What a script is told about the process it decides. */
export interface FakeProcessInfo {
  /** The job id and the instance's slug, from the container's labels. */
  job: string
  instance: string
  /** The stage's id (`CTR_STAGE_ID`); undefined for a job's own command. */
  stage?: string
  /** How many times this stage of this instance has run, this one included. */
  run: number
  /** The variables the stage was given (its `env:`, rendered, and CTR_*). */
  env: Record<string, string>
}

/** What the fake backend does, scripted by a test. */
export interface FakeScript {
  /** How a stage or a job's own command behaves (default: succeeds at once, silent). */
  process?: (info: FakeProcessInfo) => FakeProcess
  /** Images that cannot be made ready, with why. */
  imageErrors?: Record<string, string>
  /** External volumes that exist. */
  volumes?: string[]
  /** Labels of images, by reference. */
  imageLabels?: Record<string, Record<string, string>>
  /**
   * It kills a timed-out stage alone, as the docker backend's stage driver does; by
   * default it kills the container, as a backend that runs stages in execs must.
   */
  stageKills?: boolean
  /** The CPU count it says it has; without one, it has no `cpuCount`, as a Swarm has none. */
  cpus?: number
}

/** One call the scheduler made, as the fake recorded it, in order. */
export interface FakeEvent {
  call: string
  /** The container's instance slug, where the call is about one container. */
  instance?: string
  stage?: string
  at: number
}
