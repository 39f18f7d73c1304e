import { stringify as toYaml } from 'yaml'
import type { PipelinePlan, PlannedJob } from '../../plan/pipeline-plan.js'
import type { ParamType } from '../../pipeline/pipeline-types.js'
import type { ExportOptions } from '../shared/target-options.js'

/** The folder each runner of the fan-out hands on (fan-out.ts): results/ and workspace/. */
export const FAN_OUT_DIR = 'ctr-fanout'

/** The artifact one instance uploads; `--` keeps `ctr-build--*` from matching job `build-x`. */
function artifactOf(job: string, instance: string): string {
  return `ctr-${job}--${instance}`
}

/** A workflow_dispatch input's type for each param type; a decimal stays text, as written. */
const INPUT_TYPES: Record<ParamType, 'string' | 'number' | 'boolean' | 'choice'> = {
  str: 'string',
  int: 'number',
  float: 'number',
  bool: 'boolean',
  list: 'string',
  array: 'string',
  map: 'string',
  date: 'string',
  datetime: 'string',
  decimal: 'string',
  choice: 'choice'
}

/**
 * The pipeline as a GitHub workflow that fans it out over runners: a `plan` job that
 * validates the file and lists each job's instances (actions/validate's `instances`), a
 * workflow job per pipeline job whose matrix is those instances, each runner running one
 * with the action's `instance` input, and a `results` job merging their result documents
 * into one run's (`results-from`: outputs, summary, status).
 *
 * Each runner downloads the artifacts of the jobs its job needs into one folder and
 * uploads that folder, with its own result and what it wrote in the workspace, when it
 * ends however it ends; so the next job gets everything upstream. Every job runs unless
 * the workflow is cancelled, and the action decides, by the scheduler's own rules, from
 * the results upstream, whether its instance runs, is skipped, or fails: `if:`, `needs`
 * outputs and `failure()` mean what they mean in one run.
 */
export function exportGithub(
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: ExportOptions
): string {
  const file = plan.pipeline.file
  const action = options.action
  const runsOn = options.runsOn
  const declared = Object.entries(plan.pipeline.params)
  const schedule = plan.pipeline.on?.schedule ?? []
  const inputs = Object.fromEntries(
    declared.map(([name, spec]) => {
      const value = params[name]
      const text = typeof value === 'string' ? value : JSON.stringify(value)
      return [
        name,
        {
          type: INPUT_TYPES[spec.type],
          required: false,
          ...(spec.options ? { options: spec.options.map(String) } : {}),
          ...(value === undefined
            ? {}
            : { default: ['string', 'choice'].includes(INPUT_TYPES[spec.type]) ? text : value })
        }
      ]
    })
  )
  const checkout = { uses: 'actions/checkout@v4' }
  // Every step loads the file as the export did: the same workflow, the same default image.
  const chosen = {
    ...(plan.pipeline.workflow ? { workflow: plan.pipeline.workflow } : {}),
    ...(plan.pipeline.defaultImage ? { 'default-image': plan.pipeline.defaultImage } : {})
  }
  const pipelineStep = (extra: Record<string, string>) => ({
    uses: action,
    with: { pipeline: file, ...chosen, params: '${{ env.CTR_PARAMS }}', ...extra }
  })
  const jobs: Record<string, unknown> = {
    plan: {
      'runs-on': runsOn,
      outputs: { instances: '${{ steps.plan.outputs.instances }}' },
      steps: [
        checkout,
        {
          id: 'plan',
          uses: subAction(action, 'validate'),
          with: { files: file, ...chosen, params: '${{ env.CTR_PARAMS }}' }
        }
      ]
    }
  }
  const idOf = new Map(plan.jobs.map((j) => [j.id, workflowJobId(j.id)]))
  for (const job of plan.jobs)
    jobs[idOf.get(job.id)!] = fanOutJob(job, idOf, { runsOn, checkout, pipelineStep })
  jobs.results = {
    needs: ['plan', ...idOf.values()],
    // The summary of a failed or partly skipped run is the one people look for.
    if: '${{ always() }}',
    'runs-on': runsOn,
    steps: [
      checkout,
      {
        uses: 'actions/download-artifact@v4',
        with: { pattern: 'ctr-*', path: FAN_OUT_DIR, 'merge-multiple': true }
      },
      pipelineStep({ 'results-from': `${FAN_OUT_DIR}/results` })
    ]
  }
  const workflow = {
    name: `${plan.pipeline.name || file} (fan-out)`,
    on: {
      pull_request: null,
      workflow_dispatch: declared.length > 0 ? { inputs } : null,
      ...(schedule.length > 0
        ? {
            schedule: schedule.map((s) => ({
              cron: s.cron,
              ...(s.timezone === 'UTC' ? {} : { timezone: s.timezone })
            }))
          }
        : {})
    },
    // Reading a pull request's changed files (changed_files) takes pull-requests: read.
    permissions: plan.jobs.some((j) => j.job.changed_files)
      ? { contents: 'read', 'pull-requests': 'read' }
      : { contents: 'read' },
    env: {
      // The params of a dispatch, or those the export was made with.
      CTR_PARAMS: `\${{ github.event_name == 'workflow_dispatch' && toJSON(inputs) || '${JSON.stringify(params).replaceAll("'", "''")}' }}`
    },
    jobs
  }
  const header = `# Exported by ctr-pipeline from ${file}: the pipeline fanned out over runners, a\n# runner per job instance. Regenerate it with: ctr-pipeline export --to github ${file}\n`
  return header + toYaml(workflow, { lineWidth: 0, nullStr: '', aliasDuplicateObjects: false })
}

/** A sub-action of the suite, at the same ref as the action: `OWNER/ctr-pipeline/actions/NAME@v1`. */
function subAction(action: string, name: string): string {
  const at = action.lastIndexOf('@')
  return at < 0
    ? `${action}/actions/${name}`
    : `${action.slice(0, at)}/actions/${name}${action.slice(at)}`
}

/** A workflow job id (letters, digits, `-`, `_`, starting with a letter or `_`). */
function workflowJobId(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '_')
  return /^[A-Za-z_]/.test(safe) ? safe : `_${safe}`
}

function fanOutJob(
  job: PlannedJob,
  idOf: Map<string, string>,
  parts: {
    runsOn: string
    checkout: unknown
    pipelineStep: (extra: Record<string, string>) => unknown
  }
): Record<string, unknown> {
  const instance = '${{ matrix.instance }}'
  const strategy: Record<string, unknown> = {
    // GitHub's fail-fast is the job's: a failed instance cancels the others.
    'fail-fast': job.failFast,
    matrix: { instance: `\${{ fromJSON(needs.plan.outputs.instances)['${job.id}'] }}` }
  }
  if (job.maxParallel !== undefined) strategy['max-parallel'] = job.maxParallel
  return {
    ...(job.job.strategy?.matrix ? { name: `${job.id} (\${{ matrix.instance }})` } : {}),
    needs: ['plan', ...job.job.needs.map((n) => idOf.get(n)!)],
    // The action decides from the results upstream; only a cancelled workflow stops it.
    if: '${{ !cancelled() }}',
    'runs-on': parts.runsOn,
    strategy,
    steps: [
      parts.checkout,
      ...job.job.needs.map((need) => ({
        uses: 'actions/download-artifact@v4',
        with: { pattern: artifactOf(need, '*'), path: FAN_OUT_DIR, 'merge-multiple': true }
      })),
      parts.pipelineStep({ instance, 'inputs-from': FAN_OUT_DIR }),
      {
        if: '${{ always() }}',
        uses: 'actions/upload-artifact@v4',
        with: {
          name: artifactOf(job.id, instance),
          path: FAN_OUT_DIR,
          'include-hidden-files': true,
          'if-no-files-found': 'error'
        }
      }
    ]
  }
}
