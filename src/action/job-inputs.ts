import { parse as parseYaml, stringify } from 'yaml'
import { InputError } from '../pipeline/input-error.js'
import type { VolumeSpec } from '../pipeline/pipeline-types.js'
import { parseShortMount, SHORT_MOUNT_FORM } from '../pipeline/short-mount.js'

/** The inputs of the `actions/job` sub-action, as the runner gives them (strings). */
export interface JobInputs {
  image: string
  run: string
  shell: string
  env: string
  volumes: string
  resources: string
  /** Mount the checkout at /github/workspace and start there ('true' by default). */
  mountWorkspace: boolean
  workspace: string
}

/** Where `actions/job` mounts the checkout, as GitHub's own container jobs do. */
export const JOB_WORKSPACE = '/github/workspace'

const SHELLS: Record<string, string> = { bash: 'bash', sh: 'sh', python: 'py', py: 'py' }

/**
 * The pipeline file for one inline job: `image` with the `run` script as its one stage
 * (or the image's own command when `run` is empty). Values are written so that the
 * pipeline's templating leaves them as given: a script may hold `{{` and `${`.
 */
export function jobPipelineYaml(inputs: JobInputs): string {
  if (!inputs.image.trim()) throw new InputError(`input 'image' is required`)
  const stageType = SHELLS[inputs.shell.trim() || 'bash']
  if (!stageType) {
    throw new InputError(`input 'shell' is '${inputs.shell}': expected bash, sh or python`)
  }
  const volumes = parseVolumes(inputs.volumes)
  if (inputs.mountWorkspace)
    volumes.unshift({ source: inputs.workspace, target: JOB_WORKSPACE, mode: 'rw' })
  const withKeys: Record<string, unknown> = { image: literal(inputs.image.trim()) }
  const env = parseEnv(inputs.env)
  if (Object.keys(env).length > 0)
    withKeys.environment = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, literal(v)]))
  if (volumes.length > 0)
    withKeys.volumes = volumes.map((v) => ({ ...v, source: literal(v.source) }))
  const resources = parseMapping('resources', inputs.resources)
  if (resources) withKeys.resources = resources
  if (inputs.mountWorkspace) withKeys.working_dir = JOB_WORKSPACE
  const job: Record<string, unknown> = { 'runs-on': { type: 'container', with: withKeys } }
  if (inputs.run.trim())
    job.stages = [{ name: 'run', type: stageType, run: literal(inputs.run, { variables: false }) }]
  return stringify({ name: 'actions/job', jobs: { job } })
}

/**
 * Text that the pipeline's templating renders as itself: `{{` escaped, and `${` too in
 * values handed to Docker (scripts leave `${` to the shell).
 */
export function literal(
  text: string,
  options: { variables: boolean } = { variables: true }
): string {
  const expressions = text.replace(/\{\{/g, "{{ '{{' }}")
  return options.variables ? expressions.replace(/\$\{/g, '$$$${') : expressions
}

/** `KEY=VALUE` lines, or a YAML mapping. */
export function parseEnv(text: string): Record<string, string> {
  if (!text.trim()) return {}
  const mapping = parseMapping('env', text, true)
  if (mapping) return Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k, String(v)]))
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    const equals = line.indexOf('=')
    if (equals <= 0)
      throw new InputError(
        `input 'env': '${line.trim()}' is not KEY=VALUE (or give a YAML mapping)`
      )
    env[line.slice(0, equals).trim()] = line.slice(equals + 1)
  }
  return env
}

/** Lines of `SOURCE:TARGET` or `SOURCE:TARGET:ro|rw`, as `docker run -v` takes them. */
export function parseVolumes(text: string): VolumeSpec[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const volume = parseShortMount(line)
      if (!volume)
        throw new InputError(`input 'volumes': '${line}' is not ${SHORT_MOUNT_FORM} (one per line)`)
      return volume
    })
}

/** A YAML mapping input; undefined when empty (or, when `optional`, when not a mapping). */
function parseMapping(
  name: string,
  text: string,
  optional = false
): Record<string, unknown> | undefined {
  if (!text.trim()) return undefined
  let value: unknown
  try {
    value = parseYaml(text)
  } catch (error) {
    if (optional) return undefined
    throw new InputError(
      `input '${name}' is not valid YAML: ${(error as Error).message.split('\n')[0]}`
    )
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>
  if (optional) return undefined
  throw new InputError(`input '${name}' must be a YAML mapping, e.g. 'memory: 512m'`)
}
