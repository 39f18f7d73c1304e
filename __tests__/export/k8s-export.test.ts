import { Job } from 'kubernetes-models/batch/v1/Job'
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role'
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { checkKubernetesObjects } from '../../src/export/k8s/k8s-checks.js'
import { waitsFor, type KubernetesObject } from '../../src/export/k8s/k8s-jobs.js'
import { exportFile, exportOrProblems, type ExportFlags as Flags } from '../helpers/export.js'

const GOLDEN = '__tests__/fixtures/export/k8s'
const SEED = '__tests__/fixtures/seed-001'

/** Each object checked by the kubernetes-models class of its kind (its OpenAPI schema). */
const MODELS = { ServiceAccount, Role, RoleBinding, PersistentVolumeClaim, ConfigMap, Job }

function objectsOf(text: string): KubernetesObject[] {
  return parseAllDocuments(text).map((d) => d.toJS() as KubernetesObject)
}

/**
 * The examples with the flags each needs (host folders mapped, what a Job cannot be given
 * dropped): compared with a golden file reviewed by hand, every object valid by its
 * schema and our checks, and the Jobs in the plan's order, each waiting for its needs'.
 */
const EXAMPLES: Array<[string, Flags]> = [
  ['examples/pipeline.yml', { map: ['./data=pvc:sales-data'] }],
  ['examples/cross-platform.yml', { map: ['.=pvc:source'], drop: ['max_parallel'] }],
  [`${SEED}/basic-configuration.yml`, { map: ['/host/data=pvc:host-data'] }],
  [`${SEED}/custom-environment.yml`, { set: ['secret=api-keys', 'namespace=ci'] }],
  [
    `${SEED}/data-processing-pipeline.yml`,
    { map: ['/data=pvc:datasets', '/output=pvc:results'], drop: ['max_parallel'] }
  ],
  [`${SEED}/database-operations.yml`, { map: ['/db/migrations=hostPath:/srv/migrations'] }],
  [`${SEED}/network-configuration.yml`, {}],
  [`${SEED}/resource-limits.yml`, { drop: ['memswap_limit', 'cpuset_cpus'] }],
  [
    `${SEED}/web-application-testing.yml`,
    { map: ['/app=pvc:app'], set: ['run_name=web-42', 'service_account=runner'] }
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

describe('export --to k8s: the examples', () => {
  it.each(EXAMPLES)('%s matches its golden file and validates', async (file, flags) => {
    const { text, plan } = await exportFile('k8s', file, flags)
    const golden = path.join(GOLDEN, `${path.basename(file, '.yml')}.yaml`)
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(GOLDEN, { recursive: true })
      writeFileSync(golden, text)
    }
    expect(text).toBe(readFileSync(golden, 'utf8'))
    const objects = objectsOf(text)
    for (const object of objects) {
      const Model = MODELS[object.kind]
      expect(() => new Model(object as never).validate()).not.toThrow()
    }
    expect(checkKubernetesObjects(objects)).toEqual([])
    const jobs = objects.filter((o) => o.kind === 'Job')
    const nameOf = new Map(jobs.map((j) => [j.metadata!.annotations!['ctr-pipeline/job'], j]))
    expect(jobs.map((j) => j.metadata!.annotations!['ctr-pipeline/job'])).toEqual(
      plan.jobs.flatMap((j) => j.instances.map(() => j.job.id))
    )
    for (const planned of plan.jobs)
      for (const job of jobs.filter(
        (j) => j.metadata!.annotations!['ctr-pipeline/job'] === planned.job.id
      ))
        expect(waitsFor(job)).toEqual(
          planned.job.needs.flatMap((n) =>
            jobs
              .filter((j) => j.metadata!.annotations!['ctr-pipeline/job'] === n)
              .map((j) => j.metadata!.name)
          )
        )
    expect(nameOf.size).toBe(plan.jobs.length)
  })
})

/** The objects of a pipeline text's export, or its problems as `FILE:LINE:COL: message`. */
function exportK8s(text: string, flags: Flags = {}): string[] | KubernetesObject[] {
  const made = exportOrProblems('k8s', text, flags)
  return 'problems' in made ? made.problems : objectsOf(made.text)
}

const job = (id: string, extra = '') =>
  `  ${id}:\n${extra}    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`

describe('export --to k8s: a matrix with max_parallel', () => {
  it('is one Indexed Job: its instances as completions, max_parallel at a time, each chosen by its index', () => {
    const objects = exportK8s(
      `name: p\njobs:\n  m:\n    strategy: {matrix: {py: ['3.10', '3.11']}, max_parallel: 1, fail_fast: false}\n    retry: 2\n    runs-on: {type: container, with: {image: alpine, environment: {PY: '{{ matrix.py }}', FIXED: "it's"}}}\n    stages: [{name: s, type: sh, run: 'echo {{ matrix.py }}'}]\n${job('after', '    needs: [m]\n')}`
    ) as KubernetesObject[]
    const jobs = objects.filter((o) => o.kind === 'Job')
    expect(jobs.map((j) => [j.metadata?.name, waitsFor(j)])).toEqual([
      ['p-m', []],
      ['p-after', ['p-m']]
    ])
    const spec = jobs[0].spec!
    expect([
      spec.completionMode,
      spec.completions,
      spec.parallelism,
      spec.backoffLimitPerIndex,
      spec.maxFailedIndexes,
      spec.backoffLimit
    ]).toEqual(['Indexed', 2, 1, 2, undefined, undefined])
    const container = spec.template.spec!.containers[0]
    expect(container.command).toEqual(['sh', '/ctr-scripts/p-m.sh'])
    expect(container.env?.map((e) => e.name)).toEqual([
      'FIXED',
      'CTR_WORKSPACE',
      'CTR_RUN_ID',
      'CTR_JOB_ID'
    ])
    const scripts = objects.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>
    expect(scripts['p-m.sh']).toBe(
      [
        '# Runs the instance of this Indexed Job that JOB_COMPLETION_INDEX names.',
        'case "$JOB_COMPLETION_INDEX" in',
        '  0) export PY=3.10; export CTR_JOB_DIR=/ctr/workspace/jobs/m-1; exec sh /ctr-scripts/p-m-1.sh ;;',
        '  1) export PY=3.11; export CTR_JOB_DIR=/ctr/workspace/jobs/m-2; exec sh /ctr-scripts/p-m-2.sh ;;',
        '  *) echo "ctr-pipeline: no instance $JOB_COMPLETION_INDEX" >&2; exit 1 ;;',
        'esac',
        ''
      ].join('\n')
    )
    for (const object of objects)
      expect(() => new MODELS[object.kind](object as never).validate()).not.toThrow()
    expect(checkKubernetesObjects(objects)).toEqual([])
  })

  it('fail_fast fails the Job at the first instance that fails', () => {
    const objects = exportK8s(
      `name: p\njobs:\n${job('m', '    strategy: {matrix: {n: [1, 2, 3]}, max_parallel: 2}\n')}`
    ) as KubernetesObject[]
    const spec = objects.find((o) => o.kind === 'Job')!.spec!
    expect([spec.parallelism, spec.backoffLimitPerIndex, spec.maxFailedIndexes]).toEqual([2, 0, 0])
  })
})

describe('export --to k8s: Jobs, their order and what they share', () => {
  it('holds each Job back until every instance of its needs completed, and leaves out a job never run with those that need it', () => {
    const objects = exportK8s(
      `name: p\nparams:\n  deploy: {type: bool, default: false}\njobs:\n${job('m', '    strategy: {matrix: {n: [1, 2]}}\n')}${job('r', '    needs: [m]\n')}${job('d', "    needs: [r]\n    if: '{{ params.deploy }}'\n")}${job('after', '    needs: [d]\n')}`
    ) as KubernetesObject[]
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'ServiceAccount/p-waiter',
      'Role/p-waiter',
      'RoleBinding/p-waiter',
      'PersistentVolumeClaim/p-workspace',
      'ConfigMap/p-scripts',
      'Job/p-m-1',
      'Job/p-m-2',
      'Job/p-r'
    ])
    const jobs = objects.filter((o) => o.kind === 'Job')
    expect(jobs.map((j) => [j.metadata?.name, waitsFor(j)])).toEqual([
      ['p-m-1', []],
      ['p-m-2', []],
      ['p-r', ['p-m-1', 'p-m-2']]
    ])
    // Only a Job that waits reads the API, as the waiter; the rest run as the namespace's default.
    expect(jobs.map((j) => j.spec?.template.spec?.serviceAccountName)).toEqual([
      undefined,
      undefined,
      'p-waiter'
    ])
    expect(jobs[2].spec?.podFailurePolicy).toEqual({
      rules: [
        {
          action: 'FailJob',
          onExitCodes: { containerName: 'wait-needs', operator: 'In', values: [3] }
        }
      ]
    })
    const scripts = objects.find((o) => o.kind === 'ConfigMap')!
    expect(Object.keys(scripts.kind === 'ConfigMap' ? scripts.data! : {})).toEqual([
      'p-m-1.sh',
      'p-m-2.sh',
      'p-r.sh'
    ])
  })

  it('runs services as native sidecars its container starts after, and names the run with run_name', () => {
    const objects = exportK8s(
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine}}\n    services:\n      db:\n        image: postgres:16\n        user: '999:999'\n        healthcheck: {test: [CMD, pg_isready], interval: 2s, retries: 5}\n    stages: [{name: s, type: sh, run: 'echo {{ run_id }}'}]\n`,
      { set: ['run_name=nightly-7'] }
    ) as KubernetesObject[]
    const [a] = objects.filter((o) => o.kind === 'Job')
    const pod = a.kind === 'Job' ? a.spec!.template.spec! : undefined
    expect(a.metadata?.name).toBe('nightly-7-a')
    expect(pod?.initContainers).toEqual([
      {
        name: 'db',
        image: 'postgres:16',
        env: [],
        securityContext: { runAsUser: 999, runAsGroup: 999 },
        restartPolicy: 'Always',
        startupProbe: {
          exec: { command: ['pg_isready'] },
          periodSeconds: 2,
          timeoutSeconds: 5,
          failureThreshold: 5,
          initialDelaySeconds: 0
        }
      }
    ])
    expect(pod?.hostAliases).toEqual([{ ip: '127.0.0.1', hostnames: ['db'] }])
    expect(pod?.containers[0].env).toContainEqual({ name: 'CTR_RUN_ID', value: 'nightly-7' })
    const scripts = objects.find((o) => o.kind === 'ConfigMap')
    expect(scripts?.kind === 'ConfigMap' && scripts.data!['nightly-7-a.sh']).toContain(
      '\necho nightly-7\n'
    )
  })

  it.each<[string, string, Flags, string[]]>([
    [
      "a service's mounts",
      `jobs:\n${job('a', "    services: {db: {image: pg, volumes: ['./d:/d']}}\n")}`,
      {},
      [
        "p.yml:2:3: export --to k8s: jobs.a: services.db.volumes: a service's mounts run locally and on a Swarm, not exported yet"
      ]
    ],
    [
      'always()',
      `jobs:\n${job('a')}${job('b', '    needs: [a]\n    if: always()\n')}`,
      {},
      [
        'p.yml:5:3: export --to k8s: jobs.b: if: always() and failure(): a Job here runs only once the Jobs it needs have completed (use --to argo)'
      ]
    ],
    [
      'max_parallel over instances with different images',
      `jobs:\n  m:\n    strategy: {matrix: {img: [alpine, debian]}, max_parallel: 1}\n    runs-on: {type: container, with: {image: '{{ matrix.img }}'}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      {},
      [
        'p.yml:2:3: export --to k8s: jobs.m: max_parallel: an Indexed Job runs every instance from one pod template, and its instances differ in template.spec.containers[0].image; --drop max_parallel exports a Job per instance'
      ]
    ],
    [
      'max_parallel on a job that runs its own command',
      `jobs:\n  m:\n    strategy: {matrix: {n: [1, 2]}, max_parallel: 1}\n    runs-on: {type: container, with: {image: alpine, command: ['echo', '{{ matrix.n }}']}}\n`,
      {},
      [
        "p.yml:2:3: export --to k8s: jobs.m: max_parallel: an Indexed Job's pod chooses its instance with a script, and a job that runs its image's own command has none; give the job stages, or --drop max_parallel"
      ]
    ],
    [
      'a retry delay',
      `jobs:\n${job('a', '    retry: {count: 2, delay: 5s}\n')}`,
      {},
      [
        'p.yml:2:3: export --to k8s: jobs.a: retry.delay: a Job retries with its own backoff (10 s, doubling); --drop retry.delay takes it'
      ]
    ],
    [
      'a needs output in the environment',
      `jobs:\n  a:\n    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n    outputs: {x: '{{ stages.s.outputs.x }}'}\n  b:\n    needs: [a]\n    runs-on: {type: container, with: {image: alpine, environment: {X: '{{ needs.a.outputs.x }}'}}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
      {},
      [
        'p.yml:6:3: export --to k8s: jobs.b: a needs output has a value only in a stage of a Kubernetes Job (the stage reads it from the workspace)'
      ]
    ],
    [
      'a host folder not mapped',
      `jobs:\n  a:\n    runs-on:\n      type: container\n      with:\n        image: alpine\n        volumes:\n          - {source: ./data, target: /d}\n    stages: [{name: s, type: sh, run: ls /d}]\n`,
      {},
      [
        "p.yml:8:22: export --to k8s: jobs.a: the host folder /repo/data is not on the cluster's nodes: map it with --map /repo/data=pvc:CLAIM (or =hostPath:/PATH)"
      ]
    ]
  ])('refuses %s at its place', (_, text, flags, problems) => {
    expect(exportK8s(text, flags)).toEqual(problems)
  })
})

describe('export --to k8s: our own checks', () => {
  const base = exportK8s(
    `name: p\njobs:\n${job('a')}${job('b', '    needs: [a]\n')}`
  ) as KubernetesObject[]
  const copy = () => structuredClone(base)
  const jobNamed = (objects: KubernetesObject[], name: string) => {
    const found = objects.find((o) => o.kind === 'Job' && o.metadata?.name === name)
    if (found?.kind !== 'Job') throw new Error(`no Job ${name}`)
    return found
  }

  it.each<[string, (objects: KubernetesObject[]) => void, string[]]>([
    ['nothing wrong', () => undefined, []],
    [
      'a name that is no DNS label',
      (o) => (jobNamed(o, 'p-a').metadata!.name = 'P_a'),
      ["Job 'P_a': not a DNS-1123 label", "Job 'p-b': waits for 'p-a', no Job before it"]
    ],
    [
      'a Job waiting for one after it',
      (o) =>
        o.push(
          o.splice(
            o.findIndex((x) => x.metadata?.name === 'p-a'),
            1
          )[0]
        ),
      ["Job 'p-b': waits for 'p-a', no Job before it"]
    ],
    [
      'a mount without a volume',
      (o) => jobNamed(o, 'p-a').spec!.template.spec!.volumes!.splice(0, 1),
      ["Job 'p-a': container 'main' mounts 'workspace', no volume"]
    ],
    [
      'a script not in the ConfigMap',
      (o) => {
        const map = o.find((x) => x.kind === 'ConfigMap')
        if (map?.kind === 'ConfigMap') delete map.data!['p-b.sh']
      },
      ["Job 'p-b': runs '/ctr-scripts/p-b.sh', not in its ConfigMap"]
    ],
    [
      'the same object twice',
      (o) => o.push(structuredClone(o[o.length - 1])),
      ["Job 'p-b': defined twice"]
    ]
  ])('%s', (_, change, problems) => {
    const objects = copy()
    change(objects)
    expect(checkKubernetesObjects(objects)).toEqual(problems)
  })
})
