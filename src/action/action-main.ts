import * as core from '@actions/core'
import { describeError } from '../app/errors.js'
import { runSession } from '../app/run-session.js'
import { DockerodeClient } from '../engine/docker-client.js'
import { ActionsReporter } from '../report/actions-reporter.js'
import { preparePlan } from '../app/prepare-plan.js'
import { summarizeJob } from '../engine/job-summary.js'
import { getSettings } from './input-helper.js'
import { uploadArtifacts } from './upload-artifacts.js'
import { stepSummaryMarkdown } from '../report/step-summary.js'

const STATE_IS_POST = 'isPost'
const STATE_RUN_ID = 'runId'

async function main(): Promise<void> {
  const settings = await getSettings()
  const { params, plan } = preparePlan(settings.pipeline, settings.params)
  const reporter = new ActionsReporter()
  const result = await runSession({
    plan,
    params,
    reporter,
    maxParallel: settings.maxParallel,
    artifactsDir: settings.artifactsDir,
    untrusted: settings.untrusted,
    workspace: settings.workspace,
    onRunId: (runId) => {
      core.saveState(STATE_RUN_ID, runId)
      core.setOutput('run-id', runId)
    }
  })
  const outputs = Object.fromEntries(
    plan.jobs.map((job) => [
      job.id,
      summarizeJob(
        job,
        result.jobs.filter((j) => j.job === job.id)
      ).outputs
    ])
  )
  core.setOutput('status', result.status)
  core.setOutput('result', JSON.stringify(result))
  core.setOutput('outputs', JSON.stringify(outputs))
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(await stepSummaryMarkdown(plan, result, reporter.logs)).write()
  }
  if (settings.uploadArtifacts) await uploadArtifacts(result, settings.artifactNamePrefix)
  if (result.status !== 'success') {
    const failed = result.jobs.filter((j) => j.status === 'failure').map((j) => j.id)
    core.setFailed(
      `pipeline ${result.status}${failed.length ? `: ${failed.join(', ')} failed` : ''}`
    )
  }
}

/** The `post` step: removes whatever the run left, e.g. after the job was cancelled. */
async function post(): Promise<void> {
  const runId = core.getState(STATE_RUN_ID)
  if (!runId) return
  const removed = await new DockerodeClient().removeResources(runId)
  const total = removed.containers + removed.volumes + removed.networks + removed.images
  if (total > 0) core.info(`removed ${total} resources left by run ${runId}`)
}

/** The action's entry: `main` on the first call, `post` when the runner calls it again. */
export async function run(): Promise<void> {
  const isPost = core.getState(STATE_IS_POST) === 'true'
  core.saveState(STATE_IS_POST, 'true')
  try {
    await (isPost ? post() : main())
  } catch (error) {
    core.setFailed(describeError(error).message)
  }
}
