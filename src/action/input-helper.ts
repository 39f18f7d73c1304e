import {
  BACKEND_NAMES,
  chooseBackend,
  type BackendChoice,
  ENGINE_HOST_FORM,
  parseEngineHost,
  parseRegistry,
  parseTimeout,
  REGISTRY_FORM,
  TIMEOUT_FORM
} from '../app/backends.js'
import * as core from '@actions/core'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { loadPipelineFile, parsePipeline, type LoadOptions } from '../pipeline/load-pipeline.js'
import type { Pipeline } from '../pipeline/pipeline-types.js'
import { InputError } from '../pipeline/input-error.js'
import { DEFAULT_ARTIFACTS_DIR } from '../scheduler/pipeline-runner.js'
import { checkRunId } from '../scheduler/run-id.js'
import { parseMaxParallel } from '../app/run-session.js'
import { jobPipelineYaml } from './job-inputs.js'
import type { RunSettings } from '../app/run-app.js'
import { EXPORT_TARGETS, type ExportTarget } from '../export/export-pipeline.js'
import type { AirflowPlatform } from '../export/shared/target-options.js'

/**
 * Which of the suite's actions this process is: the root action (`run`), or a composite
 * sub-action under `actions/` that runs the same bundle with CTR_PIPELINE_ACTION set.
 */
export type ActionMode = 'run' | 'job' | 'validate' | 'cleanup' | 'export'

const MODES: readonly ActionMode[] = ['run', 'job', 'validate', 'cleanup', 'export']

/** The mode from CTR_PIPELINE_ACTION (set by the sub-actions' action.yml); `run` by default. */
export function actionMode(env: Record<string, string | undefined> = process.env): ActionMode {
  const mode = env.CTR_PIPELINE_ACTION ?? 'run'
  if ((MODES as readonly string[]).includes(mode)) return mode as ActionMode
  throw new InputError(`CTR_PIPELINE_ACTION is '${mode}': expected ${MODES.join(', ')}`)
}

/**
 * Everything the action was asked to do, read and checked in one place: what a run takes
 * (RunSettings, as the CLI's flags give it too), and what the action does with its result.
 */
export interface ActionSettings extends RunSettings {
  /** Upload each instance's artifacts as a workflow artifact named `<prefix><instance>`. */
  uploadArtifacts: boolean
  artifactNamePrefix: string
  /**
   * Whether the pipeline's output may issue workflow commands: true unless untrusted, where
   * only the workflow says `allow-workflow-commands: true` (never because an untrusted file
   * says so).
   */
  workflowCommands: boolean
  /** Write the job summary (table, diagram, failed log tails). */
  summary: boolean
  /** Write the HTML report and upload it as the artifact `<prefix>ctr-pipeline-report`. */
  report: boolean
  /** Post the summary on the pull request, as one comment updated in place. */
  commentOnPr: boolean
  /** The token for the GitHub API (PR comment, changed files). */
  token: string
  /** A fan-out's result documents to merge and report rather than run (`results-from`). */
  resultsFrom?: string
}

/**
 * Reads the action's inputs into one settings object. `pipeline` is a path (relative
 * to the workspace) or, when it spans lines, the pipeline itself.
 */
export async function getSettings(mode: 'run' | 'job' = 'run'): Promise<ActionSettings> {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
  const pipeline = mode === 'job' ? jobPipeline(workspace) : await pipelineInput(workspace)
  const only = listInput('jobs')
  const unknown = only.filter((id) => !pipeline.jobs.some((j) => j.id === id))
  if (unknown.length > 0) {
    throw new InputError(
      `input 'jobs': no job ${unknown.map((id) => `'${id}'`).join(', ')} in ${pipeline.file} (jobs: ${pipeline.jobs.map((j) => j.id).join(', ')})`
    )
  }
  const untrusted = await untrustedInput()
  return {
    pipeline,
    params: parseParamsInput(core.getInput('params')),
    maxParallel: parseMaxParallelInput(core.getInput('max-parallel')),
    artifactsDir: path.resolve(
      workspace,
      core.getInput('artifacts-dir') ||
        path.join(process.env.RUNNER_TEMP ?? workspace, DEFAULT_ARTIFACTS_DIR)
    ),
    uploadArtifacts: booleanInput('upload-artifacts', false),
    artifactsFlag: "input 'artifacts-dir'",
    artifactNamePrefix: core.getInput('artifact-name-prefix'),
    keep: false,
    untrusted,
    allowedVariables: variableNamesInput('untrusted-variables'),
    // A trusted pipeline's output issues them as a `run:` step's does; an untrusted one's
    // only when the workflow says so, never because its own file does.
    workflowCommands: !untrusted || booleanInput('allow-workflow-commands', false),
    workspace,
    only,
    summary: booleanInput('summary', true),
    report: booleanInput('report', false),
    commentOnPr: booleanInput('comment-on-pr', false),
    token: core.getInput('github-token'),
    backend: backendInput(),
    env: process.env,
    engineEnv: process.env,
    secretNames: [],
    outputs: [],
    ...fanOutInputs(workspace, only)
  }
}

/** `instance` with `inputs-from`, or `results-from`: a fan-out's runner, or its last job. */
function fanOutInputs(
  workspace: string,
  only: string[]
): Pick<ActionSettings, 'instance' | 'resultsFrom'> {
  const slug = core.getInput('instance').trim()
  const dir = core.getInput('inputs-from').trim()
  const results = core.getInput('results-from').trim()
  if (!slug !== !dir)
    throw new InputError(`inputs 'instance' and 'inputs-from' go together: give both or neither`)
  if (slug && (results || only.length > 0))
    throw new InputError(`input 'instance' runs one job instance: drop 'jobs' and 'results-from'`)
  // The workspace is a folder of this runner, bound into the job's container.
  const backend = core.getInput('backend').trim()
  if (slug && backend && backend !== BACKEND_NAMES[0])
    throw new InputError(`input 'instance': runs on the ${BACKEND_NAMES[0]} backend only`)
  if (slug) return { instance: { slug, dir: path.resolve(workspace, dir) } }
  return results ? { resultsFrom: path.resolve(workspace, results) } : {}
}

/**
 * The `backend` input (empty is the default backend; an unknown name is a usage error),
 * with what the swarm backend takes: `schedule-timeout`, `registry`, `swarm-host`.
 */
export function backendInput(): BackendChoice {
  return chooseBackend(core.getInput('backend'), "input 'backend'", {
    scheduleTimeoutMs: formInput('schedule-timeout', parseTimeout, TIMEOUT_FORM),
    registry: formInput('registry', parseRegistry, REGISTRY_FORM),
    host: formInput('swarm-host', parseEngineHost, ENGINE_HOST_FORM)
  })
}

/** An input that must have a form (empty: not given); anything else is a usage error. */
function formInput<T>(
  name: string,
  parse: (text: string) => T | undefined,
  form: string
): T | undefined {
  const text = core.getInput(name)
  if (text.trim() === '') return undefined
  const value = parse(text)
  if (value === undefined) throw new InputError(`input '${name}' is '${text}': expected ${form}`)
  return value
}

/** `actions/validate`: the pipeline files or globs to check. */
export function getValidateSettings(): {
  files: string[]
  params: Record<string, unknown>
  workflow: LoadOptions
} {
  const files = listInput('files')
  if (files.length === 0)
    throw new InputError(`input 'files' is empty: give pipeline files or globs`)
  return { files, params: parseParamsInput(core.getInput('params')), workflow: workflowInput() }
}

/** `actions/cleanup`: one run's leftovers, or (no run id) every ctr-pipeline resource. */
/** `actions/export`: what to export, where to, and the target's settings, read and checked here. */
export interface ExportSettings {
  file: string
  workflow: LoadOptions
  to: ExportTarget
  params: Record<string, unknown>
  flags: {
    set: string[]
    map: string[]
    drop: string[]
    template: boolean
    platform: AirflowPlatform
  }
  /** Where the export is written; empty: a file in RUNNER_TEMP. */
  output: string
}

export function getExportSettings(): ExportSettings {
  const to = core.getInput('to', { required: true }).trim()
  if (!(EXPORT_TARGETS as readonly string[]).includes(to))
    throw new InputError(`input 'to' is '${to}': expected ${EXPORT_TARGETS.join(', ')}`)
  const platform = core.getInput('platform').trim() || 'kubernetes'
  if (platform !== 'kubernetes' && platform !== 'docker')
    throw new InputError(`input 'platform' is '${platform}': expected kubernetes or docker`)
  return {
    file: core.getInput('file', { required: true }).trim(),
    workflow: workflowInput(),
    to: to as ExportTarget,
    params: parseParamsInput(core.getInput('params')),
    flags: {
      set: listInput('set'),
      map: listInput('map'),
      drop: listInput('drop'),
      template: booleanInput('template', false),
      platform
    },
    output: core.getInput('output').trim()
  }
}

export function getCleanupSettings(): { runId?: string; backend: BackendChoice } {
  const runId = core.getInput('run-id').trim()
  return {
    runId: runId === '' ? undefined : checkRunId(runId, "input 'run-id'"),
    backend: backendInput()
  }
}

/** The `actions/job` sub-action's inputs, as a one-job pipeline. */
function jobPipeline(workspace: string): Pipeline {
  const yaml = jobPipelineYaml({
    image: core.getInput('image', { required: true }),
    run: core.getInput('run'),
    shell: core.getInput('shell'),
    env: core.getInput('env'),
    volumes: core.getInput('volumes'),
    resources: core.getInput('resources'),
    mountWorkspace: booleanInput('mount-workspace', true),
    workspace
  })
  return parsePipeline(yaml, 'actions/job inputs', workspace)
}

/** The `pipeline` input: a path relative to the workspace, or the pipeline's YAML itself. */
async function pipelineInput(workspace: string): Promise<Pipeline> {
  const pipelineInput = core.getInput('pipeline', { required: true })
  const options = workflowInput()
  if (pipelineInput.includes('\n')) {
    return parsePipeline(pipelineInput, 'pipeline input', workspace, options)
  }
  const file = path.resolve(workspace, pipelineInput)
  if (!existsSync(file)) {
    throw new InputError(
      `input 'pipeline': no file '${pipelineInput}' in ${workspace} (give a path relative to the repository, or the pipeline's YAML itself)`
    )
  }
  return loadPipelineFile(path.relative(process.cwd(), file) || file, options)
}

/** The `workflow` input: which workflow of a file holding several (`--workflow`). */
export function workflowInput(): LoadOptions {
  const workflow = core.getInput('workflow').trim()
  return workflow ? { workflow, workflowFlag: "input 'workflow'" } : {}
}

/** A list input: one item per line or separated by commas. */
export function listInput(name: string): string[] {
  return core
    .getInput(name)
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** `untrusted`: true, false, or `auto` (the default): see trustedEvent. */
async function untrustedInput(): Promise<boolean> {
  const text = core.getInput('untrusted').trim().toLowerCase()
  if (text === 'true') return true
  if (text === 'false') return false
  if (text !== '' && text !== 'auto') {
    throw new InputError(
      `input 'untrusted' is '${core.getInput('untrusted')}': expected auto, true or false`
    )
  }
  const eventPath = process.env.GITHUB_EVENT_PATH
  const payload = eventPath
    ? await readFile(eventPath, 'utf8').then(
        (text) => JSON.parse(text) as unknown,
        () => undefined
      )
    : undefined
  return !trustedEvent(process.env.GITHUB_EVENT_NAME, payload)
}

/**
 * Events that run only what someone with write access to the repository wrote: under
 * `untrusted: auto` these alone are trusted. Everything else, `pull_request_target`,
 * `issue_comment` and `workflow_run` among them (they run on behalf of, or next to,
 * text from outside), is untrusted: the list fails closed.
 */
export const TRUSTED_EVENTS = [
  'push',
  'schedule',
  'workflow_dispatch',
  'release',
  'merge_group'
] as const

/**
 * Whether `untrusted: auto` trusts a workflow event: one of TRUSTED_EVENTS, or a
 * `pull_request` whose head is in this repository. An event with no name, or a payload
 * that could not be read, is not trusted.
 */
export function trustedEvent(name: string | undefined, payload: unknown): boolean {
  if ((TRUSTED_EVENTS as readonly string[]).includes(name ?? '')) return true
  return name === 'pull_request' && isSameRepositoryPullRequest(payload)
}

/**
 * Whether a `pull_request` payload's head is a branch of the base repository itself, not
 * a fork (or a head repository since deleted, which shows as null).
 */
export function isSameRepositoryPullRequest(event: unknown): boolean {
  const pr = (event as { pull_request?: { head?: { repo?: RepoRef }; base?: { repo?: RepoRef } } })
    ?.pull_request
  const head = pr?.head?.repo
  const base = pr?.base?.repo?.full_name
  return !!head && head.fork !== true && !!base && head.full_name === base
}

interface RepoRef {
  full_name?: string
  fork?: boolean
}

/** A list input of variable names (`untrusted-variables`): a name per line or comma. */
function variableNamesInput(name: string): string[] {
  const names = listInput(name)
  const bad = names.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
  if (bad !== undefined)
    throw new InputError(`input '${name}': '${bad}' is not a variable name (letters, digits, _)`)
  return names
}

/** A true/false input; empty is its default. */
export function booleanInput(name: string, fallback: boolean): boolean {
  const text = core.getInput(name).trim().toLowerCase()
  if (text === '') return fallback
  if (text === 'false') return false
  if (text === 'true') return true
  throw new InputError(`input '${name}' is '${core.getInput(name)}': expected true or false`)
}

/** The `max-parallel` input: empty, or a whole number of at least 1. */
export function parseMaxParallelInput(text: string): number | undefined {
  if (text.trim() === '') return undefined
  const n = parseMaxParallel(text)
  if (n === undefined) {
    throw new InputError(
      `input 'max-parallel' is '${text}': expected a whole number of at least 1 (or nothing, for the runner's CPU count)`
    )
  }
  return n
}

/** The `params` input: a YAML (or JSON) mapping of param names to values. */
export function parseParamsInput(text: string): Record<string, unknown> {
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = parseYaml(text)
  } catch (error) {
    throw new InputError(
      `input 'params' is not valid YAML: ${(error as Error).message.split('\n')[0]}`
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(
      `input 'params' must be a YAML mapping of param names to values, e.g. 'dataset: sales'`
    )
  }
  return value as Record<string, unknown>
}
