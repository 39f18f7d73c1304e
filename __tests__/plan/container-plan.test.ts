import { hostPathOf, planContainer, type MountPlan } from '../../src/plan/container-plan.js'
import type { ContainerSpec } from '../../src/pipeline/pipeline-types.js'
import { jobSpec } from '../helpers/job-spec.js'

const ctx = {
  runId: 'r1',
  pipelineDir: '/repo/pipelines',
  namedVolumes: { cache: 'ctr-pipeline-r1-cache' },
  runNetwork: 'ctr-pipeline-r1',
  renderValue: (text: string) => text.replace('{{ params.size }}', '256m')
}

const job = jobSpec

describe('planContainer: the neutral plan', () => {
  it('says what the file asks for in plain units, every value rendered', () => {
    const spec: Partial<ContainerSpec> = {
      volumes: [
        { source: 'cache', target: '/cache', mode: 'rw' },
        { source: '../data', target: '/data', mode: 'ro' }
      ],
      tmpfs: { '/scratch': 'size={{ params.size }}' },
      resources: { memory: '{{ params.size }}', cpu: '500m', memswap_limit: '-1', pids_limit: 64 },
      ulimits: { nofile: { soft: 1024, hard: 2048 } },
      network: {
        ports: { '8080': '127.0.0.1:9090' },
        extra_hosts: { db: '10.0.0.5' },
        dns: ['10.0.0.2']
      },
      cap_drop: ['ALL'],
      read_only: true,
      user: '1000',
      working_dir: '/work',
      command: ['--rows', '5']
    }
    const plan = planContainer({ job: job(spec, false), slug: 'prep' }, ctx)
    expect(plan).toEqual({
      runId: 'r1',
      name: 'ctr-r1-prep',
      image: { kind: 'pull', ref: 'img', policy: 'missing' },
      runs: 'command',
      command: ['--rows', '5'],
      env: {
        CTR_WORKSPACE: '/ctr/workspace',
        CTR_RUN_ID: 'r1',
        CTR_JOB_ID: 'prep',
        CTR_JOB_DIR: '/ctr/workspace/jobs/prep'
      },
      labels: {
        'ctr-pipeline.managed': 'true',
        'ctr-pipeline.run-id': 'r1',
        'ctr-pipeline.job': 'prep',
        'ctr-pipeline.instance': 'prep'
      },
      workingDir: '/work',
      user: '1000',
      mounts: [
        { type: 'workspace', target: '/ctr' },
        { type: 'volume', source: 'ctr-pipeline-r1-cache', target: '/cache', readOnly: false },
        { type: 'bind', source: '/repo/data', target: '/data', readOnly: true },
        { type: 'tmpfs', target: '/scratch', options: 'size=256m' }
      ],
      resources: {
        memoryBytes: 268435456,
        memorySwapBytes: -1,
        cpus: 0.5,
        pidsLimit: 64,
        ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }]
      },
      network: {
        mode: 'ctr-pipeline-r1',
        aliases: ['prep'],
        ports: [{ container: '8080/tcp', hostIp: '127.0.0.1', hostPort: '9090' }],
        extraHosts: ['db:10.0.0.5'],
        dns: ['10.0.0.2']
      },
      security: {
        privileged: false,
        capAdd: [],
        capDrop: ['ALL'],
        readOnlyRootfs: true,
        noNewPrivileges: false
      }
    })
  })

  it.each<[string, Partial<ContainerSpec>, boolean, unknown]>([
    [
      'stages: stays up, runs no command of its own',
      { command: ['x'] },
      true,
      ['stages', undefined]
    ],
    ['no stages: its own command', { command: ['x'] }, false, ['command', ['x']]]
  ])('%s', (_what, spec, stages, expected) => {
    const plan = planContainer({ job: job(spec, stages), slug: 'prep' }, ctx)
    expect([plan.runs, plan.command]).toEqual(expected)
  })

  it.each([
    ['none', 'none', []],
    ['host', 'host', []],
    ['container:db', 'container:db', []]
  ])('network_mode %s is the mode as written, with no aliases', (mode, expected, aliases) => {
    const network = { network_mode: mode, ports: {}, extra_hosts: {}, dns: [] }
    const plan = planContainer({ job: job({ network }, true), slug: 'prep' }, ctx)
    expect([plan.network.mode, plan.network.aliases]).toEqual([expected, aliases])
  })
})

describe('hostPathOf', () => {
  const mounts: MountPlan[] = [
    { type: 'workspace', target: '/ctr' },
    { type: 'bind', source: '/repo', target: '/src', readOnly: true },
    { type: 'bind', source: '/data', target: '/src/data', readOnly: false },
    { type: 'volume', source: 'v', target: '/v', readOnly: false }
  ]
  it.each([
    ['/src/a.py', '/repo/a.py'],
    ['/src/data/x.csv', '/data/x.csv'],
    ['/src', '/repo'],
    ['/srcx/a', '/srcx/a'],
    ['/v/a', '/v/a'],
    ['rel/a', 'rel/a']
  ])('%s is %s on the host', (inside, host) => {
    expect(hostPathOf(inside, mounts)).toBe(host)
  })
})
