import AWS from 'aws-sdk'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { exportOptions } from '../../src/app/export-options.js'
import { preparePlan } from '../../src/app/prepare-plan.js'
import type { BatchDocument } from '../../src/export/batch/batch-jobs.js'
import { exportPipeline } from '../../src/export/export-pipeline.js'
import { loadPipelineFile, parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { formatProblem, PipelineFileError } from '../../src/pipeline/file-problems.js'

const GOLDEN = '__tests__/fixtures/export/batch'
const SEED = '__tests__/fixtures/seed-001'
const EFS = 'efs=fs-12345678'

/**
 * The AWS SDK's own check of a request against the Batch API model: it builds the
 * request, sending nothing, and reports every unknown, missing or mistyped parameter.
 */
const batch = new AWS.Batch({
  paramValidation: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
})
function invalid(request: unknown): string | undefined {
  // build() and response are the SDK's own, left out of its types.
  const built = request as { build(): void; response: { error?: Error } }
  built.build()
  return built.response.error?.message
}

interface Flags {
  set?: string[]
  map?: string[]
  drop?: string[]
}

const EXAMPLES: Array<[string, Flags]> = [
  ['examples/pipeline.yml', { map: ['./data=hostPath:/srv/quickstart'], set: [EFS] }],
  [
    'examples/cross-platform.yml',
    { map: ['.=hostPath:/srv/src'], set: [EFS], drop: ['max_parallel'] }
  ],
  [
    `${SEED}/basic-configuration.yml`,
    {
      map: ['/host/data=hostPath:/mnt/data'],
      set: [EFS, 'job_queue=etl', 'job_role=arn:aws:iam::1:role/etl']
    }
  ],
  [
    `${SEED}/data-processing-pipeline.yml`,
    {
      map: ['/data=hostPath:/mnt/data', '/output=hostPath:/mnt/out'],
      set: [EFS],
      drop: ['max_parallel']
    }
  ],
  [`${SEED}/resource-limits.yml`, { drop: ['memswap_limit', 'cpuset_cpus'], set: [EFS] }],
  ['__tests__/fixtures/seed-004/two-task-dag.yml', { set: [EFS] }],
  ['__tests__/fixtures/seed-002/datamax.yml', { map: ['./data=hostPath:/srv/datamax'], set: [EFS] }]
]

describe('export --to batch: the examples', () => {
  it.each(EXAMPLES)(
    '%s matches its golden file and passes the SDK validation',
    async (file, flags) => {
      const pipeline = await loadPipelineFile(file)
      const { params, plan } = preparePlan(pipeline, {})
      const options = exportOptions(
        { set: flags.set ?? [], map: flags.map ?? [], drop: flags.drop ?? [] },
        pipeline
      )
      const text = exportPipeline('batch', plan, params, options)
      const golden = path.join(GOLDEN, `${path.basename(file, '.yml')}.json`)
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN, { recursive: true })
        writeFileSync(golden, text)
      }
      expect(text).toBe(readFileSync(golden, 'utf8'))
      const document = JSON.parse(text) as BatchDocument
      for (const definition of document.jobDefinitions)
        expect(invalid(batch.registerJobDefinition(definition))).toBeUndefined()
      const submitted: string[] = []
      for (const job of document.jobs) {
        expect(invalid(batch.submitJob(job))).toBeUndefined()
        for (const { jobId } of job.dependsOn ?? []) expect(submitted).toContain(jobId)
        submitted.push(job.jobName)
      }
      expect(submitted).toEqual(plan.jobs.flatMap((j) => j.instances.map((i) => i.slug)))
    }
  )
})

describe('export --to batch: order and what Batch cannot be given', () => {
  const run = (text: string, set: string[] = [EFS]) => {
    const pipeline = parsePipeline(text, 'p.yml', '/repo')
    try {
      const { params, plan } = preparePlan(pipeline, {})
      const options = exportOptions({ set, map: [], drop: [] }, pipeline)
      return JSON.parse(exportPipeline('batch', plan, params, options)) as BatchDocument
    } catch (error) {
      if (error instanceof PipelineFileError) return error.problems.map(formatProblem)
      throw error
    }
  }
  const job = (id: string, extra = '') =>
    `  ${id}:\n${extra}    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`

  it('submits jobs after their needs, every instance of a matrix, and leaves out a job never run with those that need it', () => {
    const document = run(
      `params:\n  deploy: {type: bool, default: false}\njobs:\n${job('m', '    strategy: {matrix: {n: [1, 2]}}\n')}${job('r', '    needs: [m]\n')}${job('d', "    needs: [r]\n    if: '{{ params.deploy }}'\n")}${job('after', '    needs: [d]\n')}`
    ) as BatchDocument
    expect(document.jobs.map((j) => [j.jobName, (j.dependsOn ?? []).map((d) => d.jobId)])).toEqual([
      ['m-1', []],
      ['m-2', []],
      ['r', ['m-1', 'm-2']]
    ])
  })

  it('takes a ${VAR} from Secrets Manager, by its JSON key', () => {
    const document = run(
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine, environment: {K: '\${KEY}'}}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      [EFS, 'secret_arn=arn:aws:secretsmanager:us-east-1:1:secret:keys']
    ) as BatchDocument
    const [definition] = document.jobDefinitions
    expect(definition.containerProperties?.secrets).toEqual([
      { name: 'K', valueFrom: 'arn:aws:secretsmanager:us-east-1:1:secret:keys:KEY::' }
    ])
    expect(definition.containerProperties?.environment?.map((e) => e.name)).not.toContain('K')
    expect(invalid(batch.registerJobDefinition(definition))).toBeUndefined()
  })

  it.each<[string, string, string[], string[]]>([
    [
      'always()',
      `jobs:\n${job('a')}${job('b', '    needs: [a]\n    if: always()\n')}`,
      [EFS],
      [
        'p.yml:5:3: export --to batch: jobs.b: if: always() and failure(): Batch runs a job only after everything it depends on succeeded'
      ]
    ],
    [
      'max_parallel',
      `jobs:\n${job('m', '    strategy: {matrix: {n: [1, 2, 3]}, max_parallel: 2}\n')}`,
      [EFS],
      [
        'p.yml:2:3: export --to batch: jobs.m: max_parallel: 2: every instance starts once its needs are done (--drop max_parallel starts them all)'
      ]
    ],
    [
      'no shared workspace',
      `jobs:\n${job('a')}`,
      [],
      [
        'p.yml:2:3: export --to batch: jobs.a: the workspace must be shared storage the jobs all mount: --set efs=fs-ID (an EFS file system)'
      ]
    ],
    [
      'a needs output in the environment',
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n    outputs: {x: '{{ stages.s.outputs.x }}'}\n  b:\n    needs: [a]\n    runs-on: {type: container, with: {image: alpine, environment: {X: '{{ needs.a.outputs.x }}'}}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      [EFS],
      [
        'p.yml:6:3: export --to batch: jobs.b: environment X: Batch substitutes nothing in a job definition, so a needs output has no value there (a stage reads an upstream output from the workspace)'
      ]
    ],
    [
      'a secret without its ARN',
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine, environment: {K: '\${KEY}'}}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      [EFS],
      [
        "p.yml:2:3: export --to batch: jobs.a: environment K: '${KEY}' comes from Secrets Manager: --set secret_arn=ARN of a secret holding it as a JSON key"
      ]
    ]
  ])('refuses %s', (_, text, set, problems) => {
    expect(run(text, set)).toEqual(problems)
  })
})
