import type { SourcePosition } from './spec-error.js'

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
  params: Record<string, ParamSpec>
  jobs: JobSpec[]
}

export type ParamType = 'str' | 'int' | 'float' | 'bool' | 'list' | 'map'

export interface ParamSpec {
  type: ParamType
  default?: unknown
  required: boolean
}

export interface JobSpec {
  /** The key under `jobs:`, which `needs` and expressions refer to. */
  id: string
  desc?: string
  needs: string[]
  container: ContainerSpec
  /** Undefined for a job that runs its image's own entrypoint. */
  stages?: StageSpec[]
  outputs: Record<string, string>
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
  cpuset_cpus?: string
  memswap_limit?: string
}

/** `runs-on.with`: what the job's container is made from. */
export interface ContainerSpec {
  image: string
  container_name?: string
  volumes: VolumeSpec[]
  environment: Record<string, string>
  resources: ResourcesSpec
  working_dir?: string
  user?: string
  command?: string[]
  entrypoint?: string[]
}

export type StageType = 'empty' | 'bash' | 'sh' | 'py' | 'cmd'

export interface StageSpec {
  /** What `stages.ID.outputs` refers to: `id`, else `name`. */
  id: string
  name: string
  type: StageType
  run?: string
  echo?: string
  args?: string[]
  env: Record<string, string>
  continue_on_error: boolean
  position: SourcePosition
}
