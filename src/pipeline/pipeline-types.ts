import type { SourcePosition, FileProblem } from './file-problems.js'
import type { Dialect } from './dialect/dialect-rules.js'

/**
 * The pipeline file as validated, before any expression is rendered: string values
 * may still hold `{{ ... }}` and `${VAR}` templates.
 */
export interface Pipeline {
  /** Path of the file as the user named it (used in messages). */
  file: string
  /** Absolute folder of the file; relative mount sources resolve against it. */
  dir: string
  name: string
  /** Its key in a file holding several workflows (`--workflow`); undefined otherwise. */
  workflow?: string
  /** The image jobs without `runs-on` were given (`--default-image`), when one was. */
  defaultImage?: string
  /** `on:`: when a scheduler starts it; `run` starts it now, exports carry it where they can. */
  on?: TriggerSpec
  params: Record<string, ParamSpec>
  jobs: JobSpec[]
  /** Top-level `volumes:`: named volumes that jobs mount by their key. */
  volumes: Record<string, NamedVolumeSpec>
  /** Where jobs reach the host; a run refuses what its trust mode does not allow. */
  hostAccess: HostAccess[]
  /** Names of the `${VAR}`s handed to containers: their values are masked as secrets. */
  variables: string[]
  /** Whose meaning the file's spellings have (a file marked `type: Workflow` is ddeutil's). */
  dialect: Dialect
  /** What the file says that another engine would read otherwise: shown, not refused. */
  warnings: FileProblem[]
}

/** `on:`, as ddeutil-workflow writes it. */
export interface TriggerSpec {
  /** Cron lines, all in one time zone. */
  schedule: ScheduleSpec[]
  /** Workflows whose release starts this one (ddeutil's release event). */
  release: string[]
  position: SourcePosition
}

export interface ScheduleSpec {
  /** Five fields: minute hour day-of-month month day-of-week. */
  cron: string
  /** An IANA name; UTC when the file gives none. */
  timezone: string
  position: SourcePosition
}

/** A named volume of top-level `volumes:`. */
export interface NamedVolumeSpec {
  /** The engine's name for it; by default one made from the run id and the key. */
  name?: string
  /** It exists already: the run neither creates nor removes it. */
  external: boolean
  driver?: string
  driver_opts: Record<string, string>
  labels: Record<string, string>
}

/** A condition as written: an expression (with or without `{{ }}`) or a literal. */
export type Condition = string | boolean

export type ParamType =
  | 'str'
  | 'int'
  | 'float'
  | 'bool'
  | 'list'
  | 'map'
  | 'date'
  | 'datetime'
  | 'decimal'
  | 'choice'
  | 'array'

export interface ParamSpec {
  type: ParamType
  default?: unknown
  required: boolean
  /** `choice`: the values it may take; the first is the default. */
  options?: Array<string | number>
  /** `decimal`: digits after the point (default 6, as ddeutil-workflow rounds). */
  precision?: number
  position: SourcePosition
}

/** ddeutil-workflow's rules for running a job by how the jobs it needs ended. */
export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'one_success',
  'one_failed',
  'none_failed',
  'none_skipped'
] as const
export type TriggerRule = (typeof TRIGGER_RULES)[number]

export interface JobSpec {
  /** The key under `jobs:`, which `needs` and expressions refer to. */
  id: string
  desc?: string
  needs: string[]
  /** Runs the job only when true; without a status function, `success() && ...` is implied. */
  if?: Condition
  /**
   * Decides from how the needed jobs ended instead of success() (see checkTriggerRule);
   * a ddeutil workflow's jobs with needs have `all_success` by default.
   */
  trigger_rule?: TriggerRule
  strategy?: StrategySpec
  container: ContainerSpec
  /** Undefined for a job that runs its image's own entrypoint. */
  stages?: StageSpec[]
  outputs: Record<string, string>
  /** Kill the job's container after this long (ms). */
  timeout_ms?: number
  /** Run a failed job again, up to `count` more times, `delay_ms` apart. */
  retry: RetrySpec
  /** Paths or globs in the container copied out to the artifacts folder. */
  artifacts: string[]
  /** Containers started beside the job, reachable by their key as a host name. */
  services: Record<string, ServiceSpec>
  /** Lets the job mount the Docker socket or the host's root (off by default). */
  allow_host_access: boolean
  /**
   * Globs of repository paths: when the run knows the files a pull request changes, the
   * job runs only if one of them matches (`!glob` excludes).
   */
  changed_files?: string[]
  position: SourcePosition
}

export interface RetrySpec {
  count: number
  delay_ms: number
}

/** `strategy:` of a job: the matrix and how its instances run. */
export interface StrategySpec {
  matrix?: MatrixSpec
  max_parallel?: number
  /** Stop the other instances when one fails (default true, as in GitHub Actions). */
  fail_fast: boolean
  /** Whose defaults filled what the file left out of these two, when it left one out. */
  defaults?: 'GitHub' | 'ddeutil-workflow'
}

export type MatrixRow = Record<string, unknown>

export interface MatrixSpec {
  /** Each axis is a list of values, or an expression that gives one. */
  axes: Record<string, unknown[] | string>
  /** Rows as written, or an expression that gives a list of them. */
  include: MatrixRow[] | string
  exclude: MatrixRow[] | string
  /**
   * The whole matrix as one expression (`{{ fromJSON(needs.list.outputs.matrix) }}`): an
   * object of axes, `include` and `exclude`, or a list of rows, one instance each.
   */
  whole?: string
  /**
   * The jobs whose outputs its expressions read: the matrix is expanded when they are
   * done, not when the run starts. Empty for a matrix known in advance.
   */
  after: string[]
  position: SourcePosition
}

export interface VolumeSpec {
  source: string
  target: string
  mode: 'ro' | 'rw'
}

export interface ResourcesSpec {
  memory?: string
  cpu?: string
  /** What the job is sure to get: where an orchestrator places it (Swarm's reservations). */
  memory_reservation?: string
  cpu_reservation?: string
  cpuset_cpus?: string
  memswap_limit?: string
  /** Most processes the container may hold (`--pids-limit`). */
  pids_limit?: number
  /** Size of `/dev/shm` (`--shm-size`). */
  shm_size?: string
  gpus?: GpuSpec
}

/** `gpus`: `all`, a count, or which devices with which capabilities (`--gpus`). */
export interface GpuSpec {
  /** -1 for all. */
  count?: number
  device_ids?: string[]
  capabilities: string[]
  driver?: string
}

/** A resource limit of the container's processes (`--ulimit`). */
export interface UlimitSpec {
  soft: number
  hard: number
}

/** `runs-on.with`: what the job's container is made from. */
/** A service container's health check, as Docker's HEALTHCHECK sets it. */
export interface HealthcheckSpec {
  /** `['CMD', ...]`, `['CMD-SHELL', script]`, or `['NONE']`. */
  test: string[]
  interval_ms: number
  timeout_ms: number
  retries: number
  start_period_ms: number
}

/** A container started beside a job (`services:`), as GitHub Actions' services are. */
export interface ServiceSpec {
  image: string
  env: Record<string, string>
  command?: string[]
  /** Container port to host port, as `network.ports`. */
  ports: Record<string, string | null>
  healthcheck?: HealthcheckSpec
  volumes: VolumeSpec[]
  user?: string
  auth?: RegistryAuthSpec
}

/** When to pull a job's image: `missing` (the default) pulls only what the engine lacks. */
export type PullPolicy = 'always' | 'missing' | 'never'

/** `build:`: an image built from a Dockerfile context for the run. */
export interface BuildSpec {
  /** The context folder; relative to the pipeline file's folder. */
  context: string
  /** The Dockerfile, relative to the context (`Dockerfile` when not given). */
  dockerfile?: string
  args: Record<string, string>
  target?: string
  /** Push the built image under the name `image` gives. */
  push?: boolean
}

/** `auth:`: registry credentials, written as `${VAR}` so the secret stays out of the file. */
export interface RegistryAuthSpec {
  username: string
  password: string
  /** The registry they are for; the image's own registry when not given. */
  registry?: string
}

/** `runs-on.with.placement`: Swarm's constraints (`node.labels.disk == ssd`) and spreads. */
export interface PlacementSpec {
  constraints: string[]
  /** Each spreads the tasks evenly over the values of a node attribute (`node.labels.zone`). */
  preferences: Array<{ spread: string }>
}

export interface ContainerSpec {
  /** The image to run; '' when the job builds its image (`build`). */
  image: string
  pull: PullPolicy
  build?: BuildSpec
  auth?: RegistryAuthSpec
  container_name?: string
  volumes: VolumeSpec[]
  environment: Record<string, string>
  resources: ResourcesSpec
  network: NetworkSpec
  working_dir?: string
  user?: string
  command?: string[]
  entrypoint?: string[]
  /** tmpfs mounts: target path to mount options (`size=64m,mode=1777`, or ''). */
  tmpfs: Record<string, string>
  ulimits: Record<string, UlimitSpec>
  read_only: boolean
  cap_add: string[]
  cap_drop: string[]
  privileged: boolean
  /** `os/arch[/variant]` of the image to use (`--platform`). */
  platform?: string
  /** Where an orchestrator may run it (the swarm backend); one engine has nowhere else. */
  placement?: PlacementSpec
  /** Labels of the container; ctr-pipeline's own labels win over these. */
  labels: Record<string, string>
  /** Where `resources.cpu` is written, for a limit the engine turns out not to have. */
  cpuPosition?: SourcePosition
  /**
   * ddeutil's engine per job: a run uses one, so this must name the run's own (checked
   * when the run starts, against the engine it reached).
   */
  docker_host?: string
  /**
   * ddeutil's `remove: false`: the job's container stays when it ends, with what it stands
   * on (the run's volumes and network), as `--keep` leaves a whole run.
   */
  keep?: boolean
}

export interface NetworkSpec {
  /** `none`, `bridge`, `host`, `container:NAME` or a network's name. */
  network_mode?: string
  /** Container port (`8080`, `53/udp`) to host port (`8080`, `127.0.0.1:8080`; empty: any). */
  ports: Record<string, string | null>
  /** Host name to address, added to the container's /etc/hosts (`--add-host`). */
  extra_hosts: Record<string, string>
  /** DNS servers (`--dns`). */
  dns: string[]
}

export type StageType =
  'empty' | 'bash' | 'sh' | 'py' | 'cmd' | 'process' | NestedStageType | 'raise'

/** Stages that hold stages, as ddeutil-workflow has them (see NestedStage). */
export type NestedStageType = 'foreach' | 'until' | 'parallel' | 'case'

/**
 * How a stage that holds stages runs them, in the job's container as any other stage:
 * - `foreach`: its stages once per item (`{{ item }}`, `{{ loop }}` from 0), `concurrent`
 *   items at a time; the first failed item cancels those not started;
 * - `until`: its stages again while `until` is false (`{{ item }}`, `{{ loop }}` from 1),
 *   at most `maxLoop` times; an inner stage's `item` output is the next item;
 * - `parallel`: each branch's stages (`{{ branch }}`), `maxWorkers` branches at a time,
 *   every branch to its end;
 * - `case`: the stages of the first `match` whose `case` equals the rendered `value`
 *   (`{{ case }}`), else those of its `else` (`case: _`).
 */
export type NestedStage =
  | {
      type: 'foreach'
      /** A list, or a template that gives one. */
      items: unknown[] | string
      stages: StageSpec[]
      concurrent: number
      /** Iterations are keyed by their index instead of their item (items may repeat). */
      useIndexAsKey: boolean
    }
  | {
      type: 'until'
      /** The first item, a template when a string. */
      item: unknown
      until: string
      stages: StageSpec[]
      maxLoop: number
    }
  | { type: 'parallel'; branches: Array<{ name: string; stages: StageSpec[] }>; maxWorkers: number }
  | {
      type: 'case'
      value: string
      /** In the file's order; `case` undefined is the `else` (or `case: _`). */
      match: Array<{ case?: unknown; stages: StageSpec[] }>
      skipNotMatch: boolean
    }

export interface StageSpec {
  /** What `stages.ID.outputs` refers to: `id`, else `name`. */
  id: string
  name: string
  type: StageType
  run?: string
  echo?: string
  args?: string[]
  /** `process`: the process's name, as its image's label `process.NAME` gives it. */
  process?: string
  /** `process`: its inputs as written; string values are templates. */
  inputs?: Record<string, unknown>
  env: Record<string, string>
  if?: Condition
  /** Kill the container when the stage runs longer (ms); the stage fails as timed out. */
  timeout_ms?: number
  continue_on_error: boolean
  /** What the stage is for (ddeutil's `desc`), shown in the plan. */
  desc?: string
  /** Run a failed stage again, up to this many more times, as ddeutil-workflow does. */
  retry: number
  /** An empty stage: wait this long (ms) after its echo, as ddeutil's `sleep`. */
  sleep_ms?: number
  /** A `py` stage's globals (ddeutil's `vars`); string values are templates. */
  vars?: Record<string, unknown>
  /** A stage that holds stages: how it runs them. */
  nested?: NestedStage
  /** A `raise` stage: the message it fails with (a template). */
  raise?: string
  position: SourcePosition
}

/** Ways a job reaches past its container into the host. */
export type HostAccessKind =
  | 'privileged'
  | 'cap_add'
  | 'host_network'
  | 'docker_socket'
  | 'host_root'
  | 'host_path'
  /** A top-level volume the run does not own: `external`, or a `name` of the engine's. */
  | 'shared_volume'
  /** A top-level volume with a `driver` or `driver_opts` (`o: bind` mounts host folders). */
  | 'volume_driver'
  /** `build:`: an image built (and with `image:`, tagged) on the engine. */
  | 'image_build'
  /** `build.push`: an image pushed to a registry. */
  | 'image_push'
  /** `auth:`: registry credentials the engine sends from the host. */
  | 'registry_auth'
  /** A `ulimits` key other than `nofile` and `nproc`. */
  | 'ulimit'
  /** A `${VAR}` read from the run's environment (`variable` names it). */
  | 'variable'
  /** ddeutil's `remove: false`: the job's container and the run's volumes outlive the run. */
  | 'kept_container'
  /** Top-level `allow_workflow_commands: true`. */
  | 'workflow_commands'

/** One place in the file where a job reaches the host, and what it reaches. */
export interface HostAccess extends FileProblem {
  kind: HostAccessKind
  /** The job; '' for a top-level volume. */
  job: string
  /** For mounts: the host path, absolute (with any `{{ }}` left as written). */
  hostPath?: string
  /** For `variable`: the name `${VAR}` reads. */
  variable?: string
}
