import * as core from '@actions/core'
import path from 'node:path'
import { describeError } from '../app/errors.js'
import { preparePlan } from '../app/prepare-plan.js'
import { runApp } from '../app/run-app.js'
import { createBackend } from '../app/backends.js'
import { summarizeJob } from '../scheduler/job-summary.js'
import type { RunResult } from '../scheduler/run-result.js'
import { ActionsReporter } from '../report/actions-reporter.js'
import { relativeTo } from '../report/text-format.js'
import { SecretMasker } from '../report/secret-masker.js'
import { summaryMarkdown } from '../report/step-summary.js'
import { htmlReport } from '../report/html-report.js'
import type { InstanceLogs } from '../report/instance-logs.js'
import type { PipelinePlan } from '../plan/pipeline-plan.js'
import type { Pipeline } from '../pipeline/pipeline-types.js'
import { InputError } from '../pipeline/input-error.js'
import { PipelineFileError } from '../pipeline/file-problems.js'
import {
  actionMode,
  backendInput,
  getCleanupSettings,
  getSettings,
  type ActionSettings
} from './input-helper.js'
import {
  apiMessage,
  COMMENT_LIMIT_CHARS,
  listChangedFiles,
  loadGitHub,
  pullRequestOf,
  upsertComment,
  type PullRequestRef
} from './pull-request.js'
import { sizeOutputs } from './sized-outputs.js'
import { uploadArtifacts, uploadReport } from './upload-artifacts.js'
import { validateFiles } from './validate-files.js'
import { exportFile } from './export-file.js'
import { writeFileReplacing } from '../scheduler/host-files.js'
import { mergeResultFiles } from '../app/fan-out.js'

const STATE_IS_POST = 'isPost'
const STATE_RUN_ID = 'runId'

/** The root action (and `actions/job`): runs the pipeline and reports it to GitHub. */
async function main(mode: 'run' | 'job'): Promise<void> {
  const settings = await getSettings(mode)
  const masker = maskSecrets(settings.pipeline)
  // The GitHub client loads only for what needs it: changed files, a comment.
  let pullRequest: Promise<PullRequestRef | undefined> | undefined
  const thePullRequest = () =>
    (pullRequest ??= loadGitHub().then((github) => pullRequestOf(github.context)))
  // The pull request's files are asked of the API only when a job of the plan wants them.
  settings.changedFiles = async (plan) => {
    if (!plan.jobs.some((j) => j.job.changed_files)) return undefined
    const pr = await thePullRequest()
    if (!pr) return undefined
    const files = await listChangedFiles(await octokit(settings), pr)
    core.info(`pull request #${pr.number} changes ${files.length} files`)
    return files
  }
  const reporter = new ActionsReporter({
    masker,
    workflowCommands: settings.workflowCommands,
    untrusted: settings.untrusted
  })
  let plan: PipelinePlan
  let result: RunResult
  try {
    if (settings.resultsFrom) {
      plan = preparePlan(settings.pipeline, settings.params, settings.only).plan
      result = masker.maskDeep(
        await mergeResultFiles(plan, [settings.resultsFrom], "input 'results-from'")
      )
    } else {
      ;({ plan, result } = await runApp(settings, {
        reporter,
        masker,
        onRunId: (runId) => {
          core.saveState(STATE_RUN_ID, runId)
          core.setOutput('run-id', runId)
        }
      }))
    }
  } finally {
    reporter.resumeCommands()
  }
  const sized = await setOutputs(mode, plan, result, settings)
  // Before the summary, which links to it.
  const reportArtifact = settings.report
    ? await report(plan, result, reporter.logs, settings)
    : undefined
  const markdown = (limitBytes?: number) =>
    summaryMarkdown(plan, result, reporter.logs, {
      baseDir: settings.workspace,
      limitBytes,
      report: reportArtifact
    })
  if (settings.summary && process.env.GITHUB_STEP_SUMMARY)
    await core.summary.addRaw(await markdown()).write()
  if (settings.commentOnPr)
    await commentOnPullRequest(
      settings,
      await thePullRequest(),
      plan.pipeline.name,
      await markdown(COMMENT_LIMIT_CHARS - 200)
    )
  if (settings.uploadArtifacts) await uploadArtifacts(result, settings.artifactNamePrefix)
  if (sized.outputsError) core.setFailed(sized.outputsError)
  if (result.status !== 'success') {
    const failed = result.jobs.filter((j) => j.status === 'failure').map((j) => j.id)
    core.setFailed(
      result.error ??
        `pipeline ${result.status}${failed.length ? `: ${failed.join(', ')} failed` : ''}`
    )
  }
}

/** A file of this step's under $RUNNER_TEMP (the workspace off a runner). */
function runnerTempFile(settings: ActionSettings, name: string): string {
  return path.join(process.env.RUNNER_TEMP ?? settings.workspace, name)
}

/**
 * Writes the HTML report under $RUNNER_TEMP, names it in `report-file`, and uploads it;
 * resolves to the artifact, when uploaded.
 */
async function report(
  plan: PipelinePlan,
  result: RunResult,
  logs: InstanceLogs,
  settings: ActionSettings
) {
  const file = runnerTempFile(settings, `ctr-report-${result.run_id}.html`)
  await writeFileReplacing(
    file,
    await htmlReport(plan, result, logs, { baseDir: settings.workspace })
  )
  core.setOutput('report-file', file)
  return uploadReport(file, settings.artifactNamePrefix)
}

/**
 * The step's outputs, sized to GitHub's limit; the whole result document goes to a file.
 * `actions/job` outputs its one stage's outputs and its exit code. Every output is set,
 * whatever the sizes: one too big is replaced by a pointer to the file.
 */
async function setOutputs(
  mode: 'run' | 'job',
  plan: PipelinePlan,
  result: RunResult,
  settings: ActionSettings
) {
  const resultFile = runnerTempFile(settings, `ctr-result-${result.run_id}.json`)
  await writeFileReplacing(resultFile, `${JSON.stringify(result, null, 2)}\n`)
  const jobOutputs = Object.fromEntries(
    plan.jobs.map((job) => {
      const instances = result.jobs.filter((j) => j.job === job.id)
      return [job.id, summarizeJob(job, instances).outputs]
    })
  )
  const sized = sizeOutputs(
    result,
    mode === 'job' ? (result.jobs[0]?.stages[0]?.outputs ?? {}) : jobOutputs,
    resultFile
  )
  core.setOutput('status', result.status)
  core.setOutput('result-file', resultFile)
  core.setOutput('result', sized.result)
  core.setOutput('outputs', sized.outputs)
  if (mode === 'job') core.setOutput('exit-code', String(result.jobs[0]?.exit_code ?? ''))
  if (sized.truncated)
    core.warning(
      `the result output was cut to fit GitHub's outputs limit; the whole document is in ${resultFile}`
    )
  return sized
}

/**
 * Tells the runner the pipeline's secrets (`${VAR}` values handed to containers) before
 * anything is printed, and returns a masker for what the action writes itself.
 */
function maskSecrets(pipeline: Pipeline): SecretMasker {
  const masker = SecretMasker.forPipeline(pipeline, process.env)
  for (const secret of masker.values) core.setSecret(secret)
  return masker
}

/** The REST client for the workflow's token (`github-token`, by default `github.token`). */
async function octokit(settings: ActionSettings) {
  if (!settings.token) {
    throw new InputError(
      `input 'github-token' is empty: comment-on-pr and changed_files need a token (the default is github.token)`
    )
  }
  return (await loadGitHub()).getOctokit(settings.token)
}

/**
 * Posts the summary on the pull request, editing the comment of an earlier run. A token
 * that may not comment (a fork's pull request gets a read-only one) is a warning, not a
 * failure: the run's own outcome stands.
 */
async function commentOnPullRequest(
  settings: ActionSettings,
  pr: PullRequestRef | undefined,
  key: string,
  body: string
) {
  if (!pr) {
    core.info('comment-on-pr: this workflow run is not for a pull request; no comment')
    return
  }
  try {
    const { url, created } = await upsertComment(await octokit(settings), pr, key, body)
    core.info(
      `${created ? 'commented' : 'updated the comment'} on pull request #${pr.number}: ${url}`
    )
  } catch (error) {
    core.warning(
      `comment-on-pr: could not comment on pull request #${pr.number}: ${apiMessage(error)} (the token needs 'pull-requests: write'; a pull request from a fork gets a read-only token)`
    )
  }
}

/** The `post` step: removes whatever the run left, e.g. after the job was cancelled. */
async function post(): Promise<void> {
  const runId = core.getState(STATE_RUN_ID)
  if (!runId) return
  const removed = await createBackend(backendInput(), process.env).sweep(runId)
  const total = removed.containers + removed.volumes + removed.networks + removed.images
  if (total > 0) core.info(`removed ${total} resources left by run ${runId}`)
}

/** `actions/cleanup`: removes what runs left behind, by label (one run, or all). */
async function cleanup(): Promise<void> {
  const { runId, backend } = getCleanupSettings()
  const removed = await createBackend(backend, process.env).sweep(runId)
  core.info(
    `removed ${removed.containers} containers, ${removed.volumes} volumes, ${removed.networks} networks, ${removed.images} built images`
  )
  core.setOutput('removed', JSON.stringify(removed))
}

/** An invalid pipeline: each problem as an error annotation at its line, then the step fails. */
function annotateProblems(error: PipelineFileError): void {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
  for (const problem of error.problems) {
    core.error(problem.message, {
      title: 'invalid pipeline',
      file: relativeTo(problem.file, workspace),
      startLine: problem.line,
      startColumn: problem.col
    })
  }
}

/**
 * The entry of the whole suite: the root action's `main`, and `post` when the runner
 * calls it again; the sub-actions (`CTR_PIPELINE_ACTION`, set by their entries in
 * dist/sub-actions/) `job` (with a `post` too: it creates containers), `validate`,
 * `cleanup`, `export`.
 */
export async function run(): Promise<void> {
  try {
    const mode = actionMode()
    if (mode === 'validate') return await validateFiles(annotateProblems)
    if (mode === 'cleanup') return await cleanup()
    if (mode === 'export') return await exportFile()
    const isPost = core.getState(STATE_IS_POST) === 'true'
    core.saveState(STATE_IS_POST, 'true')
    await (isPost ? post() : main(mode))
  } catch (error) {
    if (error instanceof PipelineFileError) {
      annotateProblems(error)
      const count = error.problems.length
      core.setFailed(
        `the pipeline is invalid: ${count} problem${count === 1 ? '' : 's'} (see the annotations)`
      )
    } else {
      core.setFailed(describeError(error).message)
    }
  }
}
