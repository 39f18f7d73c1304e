import { PipelineFileError, type FileProblem } from '../../pipeline/file-problems.js'
import type { ExportInstance, ExportJob, ExportPlan } from '../shared/export-plan.js'
import { jobScript, shValue } from '../shared/job-script.js'
import { NameBook } from '../shared/k8s-names.js'
import type { Placeholder } from '../shared/placeholders.js'
import { ExportProblem } from '../shared/pod-parts.js'
import type { ExportOptions } from '../shared/target-options.js'
import { dockerOperator } from './docker-operator.js'
import { jinja, reference, type Reference } from './jinja-fields.js'
import { podOperator, XCOM_FILE } from './pod-operator.js'
import { call, py, pyName, type PyCall, type PyValue } from './python-code.js'

/**
 * The pipeline as an Airflow DAG file (Airflow 2 and 3): one operator per job instance
 * (`--platform kubernetes`: a KubernetesPodOperator; `docker`: a DockerOperator, as in
 * seed 000), a matrix job's instances in a TaskGroup, `>>` from `needs`, trigger rules
 * from `if:`, outputs through XCom. Templated fields (scripts, environment, image) take
 * upstream outputs, params and the run id through Jinja; everything else in them is kept
 * out of Jinja's reach with `{% raw %}`.
 */
export function airflowDag(plan: ExportPlan, options: ExportOptions): string {
  const names = new NameBook()
  const varOf = new Map(plan.jobs.map((job) => [job.id, pyName('job', names.name(job.id))]))
  const matrixJobs = new Set(plan.jobs.filter((j) => j.matrix).map((j) => j.id))
  const problems: FileProblem[] = []
  const body: string[] = []
  const uses = new Set<string>()
  for (const job of plan.jobs) {
    try {
      body.push(...jobCode(job, plan, options, { varOf, matrixJobs, uses }))
    } catch (error) {
      if (!(error instanceof ExportProblem)) throw error
      const at = error.position ?? job.position
      problems.push({ ...at, message: `export --to airflow: jobs.${job.id}: ${error.message}` })
    }
  }
  if (problems.length > 0) throw new PipelineFileError(problems)
  const edges = plan.jobs.flatMap((job) =>
    job.needs.map((need) => `    ${varOf.get(need)} >> ${varOf.get(job.id)}`)
  )
  if (plan.schedule && plan.schedule.timezone !== 'UTC') uses.add('pendulum')
  const dag = call('DAG', {
    dag_id: new NameBook().name(plan.name || 'pipeline'),
    description: `exported by ctr-pipeline from ${plan.file}`,
    schedule: plan.schedule?.crons[0] ?? null,
    // A schedule in another zone than UTC is read in it: the start date carries the zone.
    start_date: {
      code:
        plan.schedule && plan.schedule.timezone !== 'UTC'
          ? `pendulum.datetime(2024, 1, 1, tz=${JSON.stringify(plan.schedule.timezone)})`
          : 'datetime(2024, 1, 1)'
    },
    catchup: false,
    // The runs of one DAG share its workspace: one at a time.
    max_active_runs: 1,
    params: plan.params as Record<string, PyValue>,
    tags: ['ctr-pipeline']
  })
  return [
    `"""${plan.name}: exported by ctr-pipeline from ${plan.file} (--platform ${options.platform}).`,
    '',
    'Export again rather than edit: this file is made from the pipeline.',
    ...(options.dropped.length > 0
      ? [`Left out on purpose (--drop): ${options.dropped.join(', ')}.`]
      : []),
    '"""',
    ...imports(options, uses),
    '',
    `with ${py(dag)} as dag:`,
    ...body,
    ...edges,
    ''
  ].join('\n')
}

function imports(options: ExportOptions, uses: Set<string>): string[] {
  const lines = [
    `from datetime import datetime${uses.has('timedelta') ? ', timedelta' : ''}`,
    ...(uses.has('pendulum') ? ['', 'import pendulum'] : []),
    '',
    'try:  # Airflow 3',
    `    from airflow.sdk import DAG${uses.has('TaskGroup') ? ', TaskGroup' : ''}`,
    'except ImportError:  # Airflow 2',
    '    from airflow import DAG',
    ...(uses.has('TaskGroup') ? ['    from airflow.utils.task_group import TaskGroup'] : [])
  ]
  if (uses.has('ShortCircuitOperator'))
    lines.push(
      'try:',
      '    from airflow.providers.standard.operators.python import ShortCircuitOperator',
      'except ImportError:',
      '    from airflow.operators.python import ShortCircuitOperator'
    )
  if (options.platform === 'kubernetes')
    lines.push(
      'from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator',
      'from kubernetes.client import models as k8s'
    )
  else
    lines.push(
      'from airflow.providers.docker.operators.docker import DockerOperator',
      `from docker.types import Mount${uses.has('Ulimit') ? ', Ulimit' : ''}`
    )
  return lines
}

interface Names {
  varOf: Map<string, string>
  matrixJobs: Set<string>
  /** What the generated code uses, for its imports. */
  uses: Set<string>
}

/** A job's code inside the DAG: its operator, or a TaskGroup of one per instance. */
function jobCode(job: ExportJob, plan: ExportPlan, options: ExportOptions, names: Names): string[] {
  const variable = names.varOf.get(job.id)!
  const { onSuccess, onFailure } = job.runsWhen
  const trigger = onSuccess && onFailure ? 'all_done' : onFailure ? 'one_failed' : undefined
  const lines: string[] = []
  const refer = reference(plan, names.matrixJobs)
  const { matrix } = job
  const indent = matrix ? '        ' : '    '
  if (matrix) {
    names.uses.add('TaskGroup')
    lines.push(`    with TaskGroup(group_id=${py(job.id)}) as ${variable}:`)
  }
  for (const instance of job.instances) {
    const operator = instanceOperator(instance, job, plan, options, refer, names)
    if (trigger) operator.kwargs!.trigger_rule = trigger
    const target = matrix ? pyName('task', instance.slug) : variable
    lines.push(`${indent}${target} = ${py(operator, indent)}`)
  }
  if (!onSuccess && !onFailure) {
    // Airflow has no "never": a short circuit before the job skips it, and so, as in
    // GitHub Actions, the jobs that need it.
    names.uses.add('ShortCircuitOperator')
    const gate = call('ShortCircuitOperator', {
      task_id: `${job.id}-if`,
      python_callable: { code: 'lambda: False' },
      ignore_downstream_trigger_rules: false
    })
    lines.push(`    ${py(gate, '    ')} >> ${variable}`)
  }
  return lines
}

function instanceOperator(
  instance: ExportInstance,
  job: ExportJob,
  plan: ExportPlan,
  options: ExportOptions,
  refer: (p: Placeholder) => Reference,
  names: Names
): PyCall {
  if (Object.keys(instance.services).length > 0)
    throw new ExportProblem('services: not exported to Airflow yet (Argo takes them as sidecars)')
  const keys = Object.keys(instance.outputs)
  const workingDir = instance.container.workingDir
  const script =
    instance.stages &&
    (workingDir && options.platform === 'kubernetes'
      ? `cd ${shValue(workingDir)} || exit 1\n`
      : '') +
      jobScript(
        job.id,
        instance.stages,
        instance.outputs,
        options.platform === 'kubernetes'
          ? { kind: 'json-file', file: XCOM_FILE }
          : { kind: 'json-line' }
      )
  const common: Record<string, PyValue | undefined> = {
    task_id: instance.slug,
    do_xcom_push: keys.length > 0
  }
  if (job.retry.count > 0) {
    names.uses.add('timedelta')
    common.retries = job.retry.count
    common.retry_delay = { code: `timedelta(seconds=${job.retry.delay_ms / 1000})` }
  }
  if (job.timeoutSeconds !== undefined) {
    names.uses.add('timedelta')
    common.execution_timeout = { code: `timedelta(seconds=${job.timeoutSeconds})` }
  }
  if (job.maxParallel !== undefined) {
    // Airflow caps tasks by pool: the pool must exist with max_parallel slots (README).
    common.pool = `ctr-${job.id}`
  }
  const text = (t: string) => jinja(t, refer)
  return options.platform === 'kubernetes'
    ? podOperator(instance, job, plan, options, script, common, text)
    : dockerOperator(instance, options, script, common, text, names.uses)
}
