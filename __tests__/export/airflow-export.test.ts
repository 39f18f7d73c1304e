import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { exportOptions } from '../../src/app/export-options.js'
import { preparePlan } from '../../src/app/prepare-plan.js'
import { exportPipeline } from '../../src/export/export-pipeline.js'
import type { AirflowPlatform } from '../../src/export/shared/target-options.js'
import type { PipelinePlan } from '../../src/plan/pipeline-plan.js'
import { loadPipelineFile, parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { formatProblem, PipelineFileError } from '../../src/pipeline/file-problems.js'

const GOLDEN = '__tests__/fixtures/export/airflow'
const STANDIN = path.resolve('__tests__/fixtures/airflow-standin')
const SEED = '__tests__/fixtures/seed-001'

interface Recorded {
  dag: Record<string, unknown>
  tasks: Array<{ class: string; task_id: string; kwargs: Record<string, unknown> }>
  edges: string[][]
}

/** Compiles a DAG file with Python, then imports it with the stand-in Airflow and reads back what it declared. */
function load(code: string): Recorded {
  const file = path.join(
    tmpdir(),
    `ctr-dag-${process.pid}-${Math.random().toString(36).slice(2)}.py`
  )
  writeFileSync(file, code)
  execFileSync('python3', ['-m', 'py_compile', file])
  const out = execFileSync('python3', [path.join(STANDIN, 'dump.py'), file], {
    env: { ...process.env, PYTHONPATH: STANDIN },
    encoding: 'utf8'
  })
  return JSON.parse(out) as Recorded
}

/** The DAG the pipeline plan says there must be: a task per instance, an edge per need. */
function expectedDag(plan: PipelinePlan) {
  const isMatrix = (job: PipelinePlan['jobs'][number]) => job.job.strategy?.matrix !== undefined
  const ids = (job: PipelinePlan['jobs'][number]) =>
    job.instances.map((i) => (isMatrix(job) ? `${job.id}.${i.slug}` : i.slug))
  const byId = new Map(plan.jobs.map((j) => [j.id, j]))
  return {
    tasks: plan.jobs.flatMap(ids),
    edges: plan.jobs.flatMap((job) =>
      job.job.needs.flatMap((need) =>
        ids(byId.get(need)!).flatMap((a) => ids(job).map((b) => [a, b]))
      )
    )
  }
}

interface Flags {
  platform: AirflowPlatform
  map?: string[]
  drop?: string[]
  set?: string[]
}

const EXAMPLES: Array<[string, Flags]> = [
  ['examples/pipeline.yml', { platform: 'kubernetes', map: ['./data=pvc:sales-data'] }],
  // The DockerOperator mounts host folders as they are; mapped, the file holds no path of this machine.
  ['examples/pipeline.yml', { platform: 'docker', map: ['./data=hostPath:/srv/quickstart'] }],
  ['examples/cross-platform.yml', { platform: 'kubernetes', map: ['.=pvc:source'] }],
  ['examples/cross-platform.yml', { platform: 'docker', map: ['.=hostPath:/srv/src'] }],
  [
    `${SEED}/database-operations.yml`,
    { platform: 'kubernetes', map: ['/db/migrations=pvc:migrations'], set: ['secret=db'] }
  ],
  [`${SEED}/custom-environment.yml`, { platform: 'docker' }],
  [
    `${SEED}/data-processing-pipeline.yml`,
    { platform: 'kubernetes', map: ['/data=pvc:datasets', '/output=pvc:results'] }
  ],
  [`${SEED}/network-configuration.yml`, { platform: 'docker' }],
  [`${SEED}/resource-limits.yml`, { platform: 'docker', drop: ['memswap_limit', 'cpuset_cpus'] }],
  [
    '__tests__/fixtures/seed-004/two-task-dag.yml',
    {
      platform: 'kubernetes',
      set: ['image_pull_secrets=regcred', 'toleration=pool=small:NoSchedule']
    }
  ],
  [
    '__tests__/fixtures/seed-002/datamax.yml',
    { platform: 'docker', map: ['./data=hostPath:/srv/datamax'] }
  ]
]

describe('export --to airflow: the examples', () => {
  it.each(EXAMPLES)(
    '%s (%j) matches its golden file, compiles, and declares the pipeline',
    async (file, flags) => {
      const pipeline = await loadPipelineFile(file)
      const { params, plan } = preparePlan(pipeline, {})
      const options = exportOptions(
        {
          set: flags.set ?? [],
          map: flags.map ?? [],
          drop: flags.drop ?? [],
          platform: flags.platform
        },
        pipeline
      )
      const code = exportPipeline('airflow', plan, params, options)
      const golden = path.join(GOLDEN, `${path.basename(file, '.yml')}.${flags.platform}.py`)
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN, { recursive: true })
        writeFileSync(golden, code)
      }
      expect(code).toBe(readFileSync(golden, 'utf8'))
      const recorded = load(code)
      const expected = expectedDag(plan)
      expect(recorded.tasks.map((t) => t.task_id)).toEqual(expected.tasks)
      expect(recorded.edges).toEqual(expected.edges)
      const operator = flags.platform === 'kubernetes' ? 'KubernetesPodOperator' : 'DockerOperator'
      expect(new Set(recorded.tasks.map((t) => t.class))).toEqual(new Set([operator]))
      expect(recorded.dag).toMatchObject({ params, max_active_runs: 1, schedule: null })
      const images = plan.jobs.flatMap((j) =>
        j.instances.map((i) => i.matrix.image ?? j.job.container.image)
      )
      expect(recorded.tasks.map((t) => t.kwargs.image)).toEqual(images)
    }
  )
})

describe('export --to airflow: a schedule', () => {
  it('is the DAG schedule, read in its time zone', async () => {
    const pipeline = await loadPipelineFile('__tests__/fixtures/ddeutil/scheduled.yml')
    const { params, plan } = preparePlan(pipeline, {})
    const options = exportOptions({ set: [], map: [], drop: [], platform: 'kubernetes' }, pipeline)
    const recorded = load(exportPipeline('airflow', plan, params, options))
    expect(recorded.dag).toMatchObject({
      schedule: '30 2 * * 1-5',
      start_date: { __datetime__: '2024-01-01T00:00:00+07:00' }
    })
  })
})

describe('export --to airflow: conditions and settings', () => {
  const text = `name: conditions
params:
  deploy: {type: bool, default: false}
jobs:
  build:
    runs-on: {type: container, with: {image: alpine}}
    stages: [{name: s, type: sh, run: 'echo "tag=v1" >> "$CTR_OUTPUT"'}]
    outputs: {tag: '{{ stages.s.outputs.tag }}'}
    retry: {count: 2, delay: 5s}
    timeout: 10m
  report:
    needs: [build]
    if: always()
    runs-on: {type: container, with: {image: 'alpine', environment: {TAG: '{{ needs.build.outputs.tag }}', RUN: 'r-{{ run_id }}'}}}
    stages: [{name: s, type: sh, run: 'echo {{ params.deploy }}'}]
  deploy:
    needs: [build]
    if: '{{ params.deploy }}'
    runs-on: {type: container, with: {image: alpine}}
    stages: [{name: s, type: sh, run: 'true'}]
  notify:
    needs: [deploy]
    if: failure()
    runs-on: {type: container, with: {image: alpine}}
    stages: [{name: s, type: sh, run: 'true'}]
`
  const recorded = () => {
    const pipeline = parsePipeline(text, 'p.yml', '/repo')
    const { params, plan } = preparePlan(pipeline, {})
    const options = exportOptions({ set: [], map: [], drop: [], platform: 'kubernetes' }, pipeline)
    return load(exportPipeline('airflow', plan, params, options))
  }

  it('maps if: to trigger rules, and a condition false both ways to a short circuit', () => {
    const { tasks, edges } = recorded()
    expect(tasks.map((t) => [t.task_id, t.kwargs.trigger_rule ?? 'all_success'])).toEqual([
      ['build', 'all_success'],
      ['report', 'all_done'],
      ['deploy', 'all_success'],
      ['deploy-if', 'all_success'],
      ['notify', 'one_failed']
    ])
    expect(edges).toEqual([
      ['deploy-if', 'deploy'],
      ['build', 'report'],
      ['build', 'deploy'],
      ['deploy', 'notify']
    ])
  })

  it('takes outputs through XCom, the run id and params through Jinja, retries and timeouts', () => {
    const [build, report] = recorded().tasks
    expect(build.kwargs).toMatchObject({
      do_xcom_push: true,
      retries: 2,
      retry_delay: { __timedelta__: 5 },
      execution_timeout: { __timedelta__: 600 }
    })
    const env = Object.fromEntries(
      (report.kwargs.env_vars as Array<{ name: string; value: string }>).map((e) => [
        e.name,
        e.value
      ])
    )
    expect(env).toMatchObject({
      TAG: '{{ ti.xcom_pull(task_ids="build")["tag"] }}',
      RUN: 'r-{{ run_id }}',
      CTR_RUN_ID: '{{ run_id }}'
    })
    // A bool param is rendered now: Jinja would write True where a run writes true.
    expect((report.kwargs.arguments as string[])[0]).toContain('echo false\n')
  })
})

function exportProblems(text: string, platform: AirflowPlatform): string[] {
  const pipeline = parsePipeline(text, 'p.yml', '/repo')
  try {
    const { params, plan } = preparePlan(pipeline, {})
    const options = exportOptions({ set: [], map: [], drop: [], platform }, pipeline)
    exportPipeline('airflow', plan, params, options)
  } catch (error) {
    if (error instanceof PipelineFileError) return error.problems.map(formatProblem)
    throw error
  }
  return []
}

describe('export --to airflow: what the operators cannot be given', () => {
  it.each<[string, string, AirflowPlatform, string[]]>([
    [
      "a matrix job's outputs downstream",
      `jobs:\n  m:\n    strategy: {matrix: {n: [1, 2]}}\n    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n    outputs: {x: '{{ stages.s.outputs.x }}'}\n  r:\n    needs: [m]\n    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'echo {{ needs.m.outputs.x }}'}]\n`,
      'kubernetes',
      [
        "p.yml:7:3: export --to airflow: jobs.r: needs.m.outputs.x: a matrix job's outputs (a list of every instance's) are not exported to Airflow yet"
      ]
    ],
    [
      'a service',
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine}}\n    services: {db: {image: postgres}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      'docker',
      [
        'p.yml:2:3: export --to airflow: jobs.a: services: not exported to Airflow yet (Argo takes them as sidecars)'
      ]
    ],
    [
      'a limit the DockerOperator has no setting for',
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine, resources: {pids_limit: 5}}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      'docker',
      [
        'p.yml:2:3: export --to airflow: jobs.a: pids_limit: the DockerOperator takes no such setting'
      ]
    ],
    [
      'an unmapped host folder on Kubernetes',
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine, volumes: [{source: /srv, target: /s}]}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      'kubernetes',
      [
        "p.yml:3:73: export --to airflow: jobs.a: the host folder /srv is not on the cluster's nodes: map it with --map /srv=pvc:CLAIM (or =hostPath:/PATH)"
      ]
    ]
  ])('%s', (_, text, platform, problems) => {
    expect(exportProblems(text, platform)).toEqual(problems)
  })
})
