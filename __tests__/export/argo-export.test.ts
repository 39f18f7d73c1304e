import { Workflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Workflow'
import { WorkflowTemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/WorkflowTemplate'
import { CronWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/CronWorkflow'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { checkArgoManifest } from '../../src/export/argo/argo-checks.js'
import { exportFile, exportOrProblems, type ExportFlags as Flags } from '../helpers/export.js'

const GOLDEN = '__tests__/fixtures/export/argo'
const SEED = '__tests__/fixtures/seed-001'

/**
 * Each example of seed 001 and of this project, with the flags it needs (its host folders
 * mapped): the output is compared with a golden file, reviewed by hand when it changes
 * (UPDATE_GOLDEN=1 writes them), and must pass Argo's own schema and our checks.
 */
const EXAMPLES: Array<[string, Flags]> = [
  ['examples/pipeline.yml', { map: ['./data=pvc:sales-data'] }],
  ['examples/cross-platform.yml', { map: ['.=pvc:source'] }],
  [`${SEED}/basic-configuration.yml`, { map: ['/host/data=pvc:host-data'] }],
  [`${SEED}/custom-environment.yml`, { set: ['secret=api-keys'] }],
  [`${SEED}/custom-volume-mounting.yml`, { map: ['/host=pvc:host'] }],
  [`${SEED}/data-processing-pipeline.yml`, { map: ['/data=pvc:datasets', '/output=pvc:results'] }],
  [`${SEED}/database-operations.yml`, { map: ['/db/migrations=hostPath:/srv/migrations'] }],
  [`${SEED}/machine-learning-training.yml`, { map: ['/ml=pvc:ml'] }],
  [`${SEED}/multi-platform-testing.yml`, { map: ['/test/code=pvc:code'] }],
  [`${SEED}/network-configuration.yml`, {}],
  [`${SEED}/resource-limits.yml`, { drop: ['memswap_limit', 'cpuset_cpus'] }],
  [
    `${SEED}/web-application-testing.yml`,
    { map: ['/app=pvc:app'], set: ['namespace=ci', 'service_account=runner'], template: true }
  ],
  [
    '__tests__/fixtures/seed-004/two-task-dag.yml',
    {
      set: [
        'image_pull_secrets=regcred',
        'node_selector.agentpool=small',
        'service_account=workflow-sa',
        'toleration=pool=small:NoSchedule',
        'toleration=kubernetes.azure.com/scalesetpriority:NoSchedule'
      ]
    }
  ],
  ['__tests__/fixtures/seed-002/datamax.yml', { map: ['./data=pvc:datamax-data'] }]
]

describe('export --to argo: the examples', () => {
  it.each(EXAMPLES)('%s matches its golden file and validates', async (file, flags) => {
    const { text } = await exportFile('argo', file, flags)
    const golden = path.join(GOLDEN, `${path.basename(file, '.yml')}.yaml`)
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(GOLDEN, { recursive: true })
      writeFileSync(golden, text)
    }
    expect(text).toBe(readFileSync(golden, 'utf8'))
    const manifest = parse(text)
    const Model = flags.template ? WorkflowTemplate : Workflow
    expect(() => new Model(manifest).validate()).not.toThrow()
    expect(checkArgoManifest(manifest)).toEqual([])
  })
})

describe('export --to argo: a schedule', () => {
  it('is a CronWorkflow in its time zone, one run at a time, that validates', async () => {
    const { text } = await exportFile('argo', '__tests__/fixtures/ddeutil/scheduled.yml')
    const manifest = parse(text) as {
      kind: string
      metadata: { name: string }
      spec: Record<string, unknown>
    }
    expect(() => new CronWorkflow(manifest as never).validate()).not.toThrow()
    expect(checkArgoManifest(manifest as never)).toEqual([])
    const { workflowSpec, ...schedule } = manifest.spec
    expect([manifest.kind, manifest.metadata.name, schedule]).toEqual([
      'CronWorkflow',
      'nightly-counts',
      { schedules: ['30 2 * * 1-5'], timezone: 'Asia/Bangkok', concurrencyPolicy: 'Forbid' }
    ])
    expect((workflowSpec as { entrypoint: string }).entrypoint).toBe('main')
  })
})

function exportProblems(text: string, flags: Flags = {}): string[] {
  const made = exportOrProblems('argo', text, flags)
  return 'problems' in made ? made.problems : []
}

const job = (body: string) => `jobs:\n  a:\n${body}`
const withImage = (extra = '') =>
  `    runs-on:\n      type: container\n      with:\n        image: alpine${extra}\n`

describe('export --to argo: what Argo cannot be given is an error at its place', () => {
  it.each<[string, string, Flags, string[]]>([
    [
      'a host folder not mapped',
      job(
        `${withImage('\n        volumes:\n          - {source: ./data, target: /d}')}    stages: [{name: s, type: sh, run: ls /d}]\n`
      ),
      {},
      [
        "p.yml:8:22: export --to argo: jobs.a: the host folder /repo/data is not on the cluster's nodes: map it with --map /repo/data=pvc:CLAIM (or =hostPath:/PATH)"
      ]
    ],
    [
      '${VAR} outside the environment',
      job(
        `    runs-on:\n      type: container\n      with:\n        image: 'registry/\${TAG}'\n    stages: [{name: s, type: sh, run: 'true'}]\n`
      ),
      {},
      [
        `p.yml:2:3: export --to argo: jobs.a: '\${VAR}' in "registry/\${TAG}": on a cluster, only runs-on.with.environment values can come from the Secret`
      ]
    ],
    [
      'an if: reading an output',
      `jobs:\n  b:\n${withImage()}    stages: [{name: s, type: sh, run: 'true'}]\n    outputs: {x: '{{ stages.s.outputs.x }}'}\n  a:\n    needs: [b]\n    if: "needs.b.outputs.x == 'y'"\n${withImage()}    stages: [{name: s, type: sh, run: 'true'}]\n`,
      {},
      [
        "p.yml:9:3: export --to argo: jobs.a.if: if: 'needs.b.outputs.x == 'y'' reads needs.b.outputs.x, which is only known while the pipeline runs; an export decides if: from params, matrix values and success(), failure(), always()"
      ]
    ],
    [
      'a script reading an earlier stage',
      job(
        `${withImage()}    stages:\n      - {name: s, type: sh, run: 'true'}\n      - {name: t, type: sh, run: 'echo {{ stages.s.outputs.x }}'}\n`
      ),
      {},
      [
        "p.yml:9:9: export --to argo: jobs.a stage t: '{{ stages.s.outputs.x }}' reads what is only known while the pipeline runs; an export takes needs.JOB.outputs.KEY and run_id only on their own (no filters), as '{{ needs.JOB.outputs.KEY }}'"
      ]
    ],
    [
      'a stage timeout',
      job(`${withImage()}    stages: [{name: s, type: sh, run: 'true', timeout: 5s}]\n`),
      {},
      [
        'p.yml:7:14: export --to argo: jobs.a stage s: a stage timeout has no counterpart on a cluster (the job has one: set the job timeout)'
      ]
    ],
    [
      'an image built for the run',
      job(
        `    runs-on:\n      type: container\n      with:\n        build: {context: .}\n    stages: [{name: s, type: sh, run: 'true'}]\n`
      ),
      {},
      [
        'p.yml:2:3: export --to argo: jobs.a: build: a cluster pulls its images: name the built image with image (and push it there)'
      ]
    ],
    [
      'a limit a pod cannot have',
      job(
        `${withImage('\n        resources: {pids_limit: 10}')}    stages: [{name: s, type: sh, run: 'true'}]\n`
      ),
      {},
      [
        "p.yml:2:3: export --to argo: jobs.a: pids_limit: a pod's container cannot be given this (Kubernetes sets it per node); --drop pids_limit leaves it out"
      ]
    ],
    [
      'a user by name',
      job(`${withImage('\n        user: nobody')}    stages: [{name: s, type: sh, run: 'true'}]\n`),
      {},
      [
        "p.yml:2:3: export --to argo: jobs.a: user: 'nobody': a pod runs as a numeric uid[:gid] (names are the image's own)"
      ]
    ],
    [
      'a malformed --map',
      job(`${withImage()}    stages: [{name: s, type: sh, run: 'true'}]\n`),
      { map: ['./data=nfs:x'] },
      ["--map './data=nfs:x': expected HOST_PATH=pvc:CLAIM or HOST_PATH=hostPath:/PATH"]
    ],
    [
      'an unknown --set key',
      job(`${withImage()}    stages: [{name: s, type: sh, run: 'true'}]\n`),
      { set: ['tolerate=all'] },
      [
        '--set tolerate: unknown key (known: namespace, service_account, image_pull_secrets, node_selector.LABEL, toleration, storage_class, workspace_size, workspace, secret, efs, job_queue, job_role, secret_arn, run_name, wait_image, action, runs_on)'
      ]
    ],
    [
      'a toleration that is not one',
      job(`${withImage()}    stages: [{name: s, type: sh, run: 'true'}]\n`),
      { set: ['toleration=pool=small:Sometimes'] },
      [
        '--set toleration=pool=small:Sometimes: expected KEY[=VALUE][:EFFECT], EFFECT one of NoSchedule, PreferNoSchedule, NoExecute'
      ]
    ],
    [
      'an unknown --drop key',
      job(`${withImage()}    stages: [{name: s, type: sh, run: 'true'}]\n`),
      { drop: ['memory'] },
      [
        '--drop memory: not a key an export may leave out (max_parallel, memswap_limit, cpuset_cpus, pids_limit, ulimits, dns, placement.preferences, retry.delay, on.schedule, on.release)'
      ]
    ]
  ])('%s', (_, text, flags, problems) => {
    expect(exportProblems(text, flags)).toEqual(problems)
  })
})

describe('export --to argo: a build named with image', () => {
  it('pulls the name the build was tagged with, as a cluster would after it was pushed', () => {
    const made = exportOrProblems(
      'argo',
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: registry.example.com/datamax:1.0, build: ., command: [minmax.py]}}\n`
    )
    expect('text' in made && parse(made.text).spec.templates[1].container).toMatchObject({
      image: 'registry.example.com/datamax:1.0',
      imagePullPolicy: 'IfNotPresent'
    })
  })
})

/** A `list` job, and a `check` job whose strategy is `strategy` and stage runs `run`. */
const fanned = (strategy: string, run = 'echo {{ matrix.file }}', after = '') => `name: fan
jobs:
  list:
    runs-on: {type: container, with: {image: alpine}}
    outputs: {found: '{{ stages.ls.outputs.found }}'}
    stages: [{id: ls, type: sh, run: 'true'}]
  check:
    needs: [list]
    strategy: ${strategy}
    runs-on: {type: container, with: {image: alpine}}
    outputs: {seen: '{{ stages.s.outputs.seen }}'}
    stages: [{id: s, type: sh, run: '${run}'}]
${after}`

describe('export --to argo: a matrix made of an upstream output', () => {
  it('fans the job out withParam over the output, each pod given its item, max_parallel at a time', () => {
    const made = exportOrProblems(
      'argo',
      fanned("{max_parallel: 2, matrix: {file: '{{ fromJSON(needs.list.outputs.found) }}'}}")
    )
    if ('problems' in made) throw new Error(made.problems.join('\n'))
    const manifest = parse(made.text) as Workflow
    expect(() => new Workflow(manifest).validate()).not.toThrow()
    expect(checkArgoManifest(manifest)).toEqual([])
    const templates = manifest.spec.templates!
    const dag = templates.find((t) => t.name === 'check')!
    expect(dag.parallelism).toBe(2)
    expect(dag.dag!.tasks).toEqual([
      {
        name: 'check-item',
        template: 'check-item',
        withParam: '{{inputs.parameters.list-found}}',
        arguments: {
          parameters: [
            { name: 'list-found', value: '{{inputs.parameters.list-found}}' },
            { name: 'item', value: '{{item}}' }
          ]
        }
      }
    ])
    const item = templates.find((t) => t.name === 'check-item')!
    expect(item.inputs?.parameters?.map((p) => p.name)).toEqual(['list-found', 'item'])
    expect(item.script?.source).toContain('\necho {{inputs.parameters.item}}\n')
    expect(item.script?.env?.find((e) => e.name === 'CTR_JOB_DIR')?.value).toBe(
      '/ctr/workspace/jobs/check-{{pod.name}}'
    )
  })

  it('passes the fields of rows the job reads, from include or the whole matrix', () => {
    for (const strategy of [
      "{matrix: {include: '{{ fromJSON(needs.list.outputs.found) }}'}}",
      "{matrix: '${{ fromJSON(needs.list.outputs.found) }}'}"
    ]) {
      const made = exportOrProblems(
        'argo',
        fanned(strategy, 'echo {{ matrix.file }} {{ matrix.n }}')
      )
      if ('problems' in made) throw new Error(made.problems.join('\n'))
      const tasks = (parse(made.text) as Workflow).spec.templates!.find((t) => t.name === 'check')!
      expect(tasks.dag!.tasks[0].arguments?.parameters?.slice(1)).toEqual([
        { name: 'item-file', value: '{{item.file}}' },
        { name: 'item-n', value: '{{item.n}}' }
      ])
    }
  })

  it.each([
    [
      'two axes',
      "{matrix: {file: '{{ fromJSON(needs.list.outputs.found) }}', os: [a, b]}}",
      'echo {{ matrix.file }}',
      '',
      "p.yml:9:16: export --to argo: jobs.check.strategy.matrix: argo fans a job out over one upstream output that is a JSON list: write the matrix as KEY: '{{ fromJSON(needs.JOB.outputs.OUT) }}' (a list of values), or include: (or the whole matrix) as '{{ fromJSON(needs.JOB.outputs.OUT) }}' (a list of rows), with nothing else"
    ],
    [
      'a value computed from the matrix',
      "{matrix: {file: '{{ fromJSON(needs.list.outputs.found) }}'}}",
      "echo {{ format(''x{0}'', matrix.file) }}",
      '',
      "p.yml:9:16: export --to argo: jobs.check.strategy.matrix: '{{ format('x{0}', matrix.file) }}' computes on a matrix value that is known only once 'list' ran in the cluster; an export takes it only on its own, as '{{ matrix.KEY }}'"
    ],
    [
      'its outputs read downstream',
      "{matrix: {file: '{{ fromJSON(needs.list.outputs.found) }}'}}",
      'echo {{ matrix.file }}',
      "  report:\n    needs: [check]\n    runs-on: {type: container, with: {image: alpine}}\n    stages: [{id: r, type: sh, run: 'echo {{ needs.check.outputs.seen }}'}]\n",
      'p.yml:13:3: export --to argo: jobs.report: needs.check.outputs.seen: the outputs of a job fanned out over an upstream output (withParam) are not handed on in Argo yet'
    ]
  ])('refuses %s, at its place', (_, strategy, run, after, message) => {
    expect(exportProblems(fanned(strategy, run, after))).toEqual([message])
  })

  it.each([
    [
      'k8s',
      "p.yml:9:16: export --to k8s: jobs.check.strategy.matrix: its matrix is made of the outputs of 'list', known only once they ran, and a Kubernetes Job is given its completions when it is submitted; export --to argo fans it out, or write the matrix in the file"
    ],
    [
      'batch',
      "p.yml:9:16: export --to batch: jobs.check.strategy.matrix: its matrix is made of the outputs of 'list', known only once they ran, and an AWS Batch array job is given its size when it is submitted; export --to argo fans it out, or write the matrix in the file"
    ],
    [
      'airflow',
      "p.yml:9:16: export --to airflow: jobs.check.strategy.matrix: its matrix is made of the outputs of 'list', known only once they ran: export --to airflow does not take such a matrix yet; export --to argo fans it out (withParam)"
    ]
  ])('--to %s refuses it by name', (target, message) => {
    const made = exportOrProblems(
      target as 'k8s',
      fanned("{matrix: {file: '{{ fromJSON(needs.list.outputs.found) }}'}}")
    )
    expect('problems' in made ? made.problems : []).toEqual([message])
  })
})
