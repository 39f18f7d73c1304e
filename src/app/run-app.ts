import type { PipelinePlan } from '../plan/pipeline-plan.js'
import type { Pipeline } from '../pipeline/pipeline-types.js'
import type { SecretMasker } from '../report/secret-masker.js'
import type { RunReporter } from '../scheduler/run-reporter.js'
import type { RunResult } from '../scheduler/run-result.js'
import { createBackend, type BackendChoice } from './backends.js'
import { readFanOutFolder, writeInstanceResult } from './fan-out.js'
import type { OutputPath } from './output-paths.js'
import { preparePlan } from './prepare-plan.js'
import { runSession } from './run-session.js'

/**
 * Everything a run takes, whichever face started it: the CLI (cli/run-command.ts) and the
 * action (action/input-helper.ts) only translate their flags or inputs into it, as
 * actions/checkout reads every input into one settings object.
 */
export interface RunSettings {
  pipeline: Pipeline
  /** Param values as given (`--param`, input 'params'), checked against the file's. */
  params: Record<string, unknown>
  /** Run only these jobs (`--job`, input 'jobs'); all when empty. */
  only: string[]
  /** At most this many job instances at once (default: the CPU count). */
  maxParallel?: number
  /** Where declared artifacts are copied, a folder per job instance. */
  artifactsDir: string
  /** The flag or input that names `artifactsDir`, for messages. */
  artifactsFlag: string
  /** Leave containers and volumes in place (`--keep`). */
  keep: boolean
  /** Untrusted mode (docs/security.md). */
  untrusted: boolean
  /** The checkout: what an untrusted pipeline may mount from. */
  workspace: string
  /** Untrusted: the names `${VAR}` may read; none by default. */
  allowedVariables: readonly string[]
  /**
   * The files the change touches, for jobs with `changed_files` (undefined: every job
   * runs), or how to find them once the plan says a job asks (the action asks the API).
   */
  changedFiles?:
    readonly string[] | ((plan: PipelinePlan) => Promise<readonly string[] | undefined>)
  /** Where jobs run. */
  backend: BackendChoice
  /** One job instance of a fan-out: its slug, and the folder of its inputs and result. */
  instance?: { slug: string; dir: string }
  /** What `${VAR}` reads: the environment, with `--env-file` and `--secret-file` over it. */
  env: Record<string, string | undefined>
  /**
   * The process's own environment, where the engine is (DOCKER_HOST, a context,
   * CTR_ENGINE_TIMEOUT): the pipeline's variables (`--env-file`) never choose it.
   */
  engineEnv: Record<string, string | undefined>
  /** Names in `env` whose values are always masked (`--secret-file`). */
  secretNames: readonly string[]
  /** Untrusted: the other files the face writes after the run (`--result`, `--report`). */
  outputs: readonly OutputPath[]
}

/** What a face reports a run through. */
export interface RunFace {
  reporter: RunReporter
  /** Masks the run's secrets in the result it hands back. */
  masker: SecretMasker
  /** Told the run id before anything is created (the action saves it for `post`). */
  onRunId?: (runId: string) => void
}

/** A run that ended: its plan, and its result document with every secret masked. */
export interface AppRun {
  plan: PipelinePlan
  result: RunResult
}

/**
 * Runs a pipeline as the settings say, for either face: plans it, makes its backend,
 * reads a fan-out instance's inputs and writes its result, and runs it as a process does
 * (runSession: signals, cleanup).
 */
export async function runApp(settings: RunSettings, face: RunFace): Promise<AppRun> {
  const { params, plan } = preparePlan(settings.pipeline, settings.params, settings.only)
  const backend = createBackend(settings.backend, settings.engineEnv)
  const changedFiles =
    typeof settings.changedFiles === 'function'
      ? await settings.changedFiles(plan)
      : settings.changedFiles
  const { instance: fanOut } = settings
  const instance = fanOut && (await readFanOutFolder(fanOut.dir, fanOut.slug))
  const result = face.masker.maskDeep(
    await runSession({
      plan,
      params,
      reporter: face.reporter,
      only: settings.only,
      maxParallel: settings.maxParallel,
      artifactsDir: settings.artifactsDir,
      artifactsFlag: settings.artifactsFlag,
      outputs: settings.outputs,
      keep: settings.keep,
      untrusted: settings.untrusted,
      workspace: settings.workspace,
      allowedVariables: settings.allowedVariables,
      changedFiles,
      onRunId: face.onRunId,
      backend,
      instance,
      env: settings.env,
      secretNames: settings.secretNames
    })
  )
  if (fanOut) await writeInstanceResult(fanOut.dir, fanOut.slug, result)
  return { plan, result }
}
