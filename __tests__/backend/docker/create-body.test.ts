import { createBody } from '../../../src/backend/docker/create-body.js'
import {
  planContainer as planNeutral,
  type ContainerPlanContext
} from '../../../src/plan/container-plan.js'
import type { ContainerSpec, JobSpec } from '../../../src/pipeline/pipeline-types.js'
import { jobSpec } from '../../helpers/job-spec.js'

/** A job's container as the Docker backend creates it: the neutral plan, then its body. */
function planContainer(...args: Parameters<typeof planNeutral>) {
  const plan = planNeutral(...args)
  return { ...plan, body: createBody(plan) }
}

const ctx: ContainerPlanContext = {
  runId: 'r1',
  pipelineDir: '/repo/pipelines',
  namedVolumes: { cache: 'ctr-pipeline-r1-cache', shared: 'team-shared' },
  runNetwork: 'ctr-pipeline-r1',
  renderValue: (text) => text.replace('{{ params.dataset }}', 'sales')
}

function jobWith(
  container: Partial<ContainerSpec>,
  stages = true,
  slug = 'prep'
): { job: JobSpec; slug: string } {
  return { job: jobSpec(container, stages), slug }
}

describe('createBody of a planned job container', () => {
  it('labels the container, mounts the workflow volume and keeps a stage job alive', () => {
    const planned = planContainer(jobWith({}), ctx)
    const { name, body } = planned
    expect(name).toBe('ctr-r1-prep')
    expect(body.Labels).toEqual({
      'ctr-pipeline.managed': 'true',
      'ctr-pipeline.run-id': 'r1',
      'ctr-pipeline.job': 'prep',
      'ctr-pipeline.instance': 'prep'
    })
    expect(body.HostConfig.Mounts[0]).toEqual({
      Type: 'volume',
      Source: 'ctr-pipeline-r1',
      Target: '/ctr',
      ReadOnly: false
    })
    expect(body.Env).toEqual([
      'CTR_WORKSPACE=/ctr/workspace',
      'CTR_RUN_ID=r1',
      'CTR_JOB_ID=prep',
      'CTR_JOB_DIR=/ctr/workspace/jobs/prep'
    ])
    expect([body.Entrypoint, body.Cmd, body.OpenStdin, body.HostConfig.LogConfig]).toEqual([
      ['/bin/sh', '-s'],
      undefined,
      true,
      { Type: 'none', Config: {} }
    ])
    const withoutShell = createBody(planned, { driver: false })
    expect([
      withoutShell.Entrypoint,
      withoutShell.Cmd,
      withoutShell.OpenStdin,
      withoutShell.HostConfig.LogConfig
    ]).toEqual([['tail'], ['-f', '/dev/null'], undefined, undefined])
  })

  it.each<
    [string, Partial<ContainerSpec>, (b: ReturnType<typeof planContainer>) => unknown, unknown]
  >([
    ['memory', { resources: { memory: '512m' } }, (p) => p.body.HostConfig.Memory, 536870912],
    ['memswap -1', { resources: { memswap_limit: '-1' } }, (p) => p.body.HostConfig.MemorySwap, -1],
    [
      'memswap',
      { resources: { memswap_limit: '1g' } },
      (p) => p.body.HostConfig.MemorySwap,
      1073741824
    ],
    ['cpu', { resources: { cpu: '1.5' } }, (p) => p.body.HostConfig.NanoCpus, 1.5e9],
    [
      'memory_reservation as a soft limit',
      { resources: { memory: '1g', memory_reservation: '256m' } },
      (p) => p.body.HostConfig.MemoryReservation,
      268435456
    ],
    [
      'cpu_reservation as nothing (one engine does not schedule)',
      { resources: { cpu_reservation: '1' } },
      (p) => [p.body.HostConfig.NanoCpus, p.body.HostConfig.MemoryReservation],
      [undefined, undefined]
    ],
    ['cpuset', { resources: { cpuset_cpus: '0,1' } }, (p) => p.body.HostConfig.CpusetCpus, '0,1'],
    ['working_dir', { working_dir: '/work' }, (p) => p.body.WorkingDir, '/work'],
    ['user', { user: '1000:1000' }, (p) => p.body.User, '1000:1000'],
    [
      'environment, rendered',
      { environment: { DS: '{{ params.dataset }}' } },
      (p) => p.body.Env[0],
      'DS=sales'
    ],
    ['image, rendered', { image: 'py:{{ params.dataset }}' }, (p) => p.body.Image, 'py:sales'],
    ['container_name with {run_id}', { container_name: 'prep-{run_id}' }, (p) => p.name, 'prep-r1'],
    ['container_name made safe', { container_name: 'my job/{run_id}' }, (p) => p.name, 'my-job-r1'],
    [
      'relative bind source, read-only',
      { volumes: [{ source: '../data', target: '/data', mode: 'ro' }] },
      (p) => p.body.HostConfig.Mounts[1],
      { Type: 'bind', Source: '/repo/data', Target: '/data', ReadOnly: true }
    ],
    [
      'absolute bind source, read-write',
      { volumes: [{ source: '/srv/out', target: '/out', mode: 'rw' }] },
      (p) => p.body.HostConfig.Mounts[1],
      { Type: 'bind', Source: '/srv/out', Target: '/out', ReadOnly: false }
    ],
    [
      'a top-level volume by its key, under the run-scoped name',
      { volumes: [{ source: 'cache', target: '/cache', mode: 'rw' }] },
      (p) => p.body.HostConfig.Mounts[1],
      { Type: 'volume', Source: 'ctr-pipeline-r1-cache', Target: '/cache', ReadOnly: false }
    ],
    [
      'a top-level volume with its own name, read-only',
      { volumes: [{ source: 'shared', target: '/shared', mode: 'ro' }] },
      (p) => p.body.HostConfig.Mounts[1],
      { Type: 'volume', Source: 'team-shared', Target: '/shared', ReadOnly: true }
    ],
    [
      'a relative source that is not a declared volume is a host path',
      { volumes: [{ source: 'cache2', target: '/c', mode: 'rw' }] },
      (p) => p.body.HostConfig.Mounts[1].Source,
      '/repo/pipelines/cache2'
    ],
    ['pids_limit', { resources: { pids_limit: 64 } }, (p) => p.body.HostConfig.PidsLimit, 64],
    ['shm_size', { resources: { shm_size: '256m' } }, (p) => p.body.HostConfig.ShmSize, 268435456],
    [
      'gpus: all',
      { resources: { gpus: { count: -1, capabilities: ['gpu'] } } },
      (p) => p.body.HostConfig.DeviceRequests,
      [{ Driver: '', Count: -1, Capabilities: [['gpu']] }]
    ],
    [
      'gpus by device id, with capabilities',
      {
        resources: {
          gpus: { device_ids: ['0', 'GPU-3a'], capabilities: ['gpu', 'utility'], driver: 'nvidia' }
        }
      },
      (p) => p.body.HostConfig.DeviceRequests,
      [
        {
          Driver: 'nvidia',
          Count: 0,
          DeviceIDs: ['0', 'GPU-3a'],
          Capabilities: [['gpu', 'utility']]
        }
      ]
    ],
    [
      'tmpfs',
      { tmpfs: { '/run': 'size=64m', '/scratch': '' } },
      (p) => p.body.HostConfig.Tmpfs,
      { '/run': 'size=64m', '/scratch': '' }
    ],
    [
      'ulimits',
      { ulimits: { nofile: { soft: 1024, hard: 2048 } } },
      (p) => p.body.HostConfig.Ulimits,
      [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]
    ],
    ['read_only', { read_only: true }, (p) => p.body.HostConfig.ReadonlyRootfs, true],
    [
      'cap_add and cap_drop',
      { cap_add: ['NET_ADMIN'], cap_drop: ['ALL'] },
      (p) => [p.body.HostConfig.CapAdd, p.body.HostConfig.CapDrop],
      [['NET_ADMIN'], ['ALL']]
    ],
    ['privileged', { privileged: true }, (p) => p.body.HostConfig.Privileged, true],
    ['platform', { platform: 'linux/arm64' }, (p) => p.platform, 'linux/arm64'],
    [
      'labels, under ctr-pipeline own',
      { labels: { team: 'data', 'ctr-pipeline.run-id': 'forged' } },
      (p) => [p.body.Labels.team, p.body.Labels['ctr-pipeline.run-id']],
      ['data', 'r1']
    ],
    [
      'extra_hosts and dns',
      { network: { ports: {}, extra_hosts: { 'db.local': '10.0.0.5' }, dns: ['10.0.0.2'] } },
      (p) => [p.body.HostConfig.ExtraHosts, p.body.HostConfig.Dns],
      [['db.local:10.0.0.5'], ['10.0.0.2']]
    ],
    [
      'network_mode',
      { network: { network_mode: 'none', ports: {}, extra_hosts: {}, dns: [] } },
      (p) => p.body.HostConfig.NetworkMode,
      'none'
    ],
    [
      'ports, container port to host port, as docker-py and the seed write them',
      {
        network: {
          ports: { '8080': '9090', '53/udp': '127.0.0.1:5353', '9000': null },
          extra_hosts: {},
          dns: []
        }
      },
      (p) => [p.body.ExposedPorts, p.body.HostConfig.PortBindings],
      [
        { '8080/tcp': {}, '53/udp': {}, '9000/tcp': {} },
        {
          '8080/tcp': [{ HostPort: '9090' }],
          '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
          '9000/tcp': [{ HostPort: '' }]
        }
      ]
    ]
  ])('maps %s', (_what, container, pick, expected) => {
    expect(pick(planContainer(jobWith(container), ctx))).toEqual(expected)
  })

  it.each([
    ['no container_name', {}, 'ctr-r1-prep-2'],
    ['a container_name', { container_name: 'test-{run_id}' }, 'test-r1-2']
  ])('names a matrix instance apart from its siblings (%s)', (_what, container, name) => {
    const instance = jobWith(container, true, 'prep-2')
    const planned = planContainer(instance, ctx)
    expect(planned.name).toBe(name)
    expect(planned.body.Labels['ctr-pipeline.instance']).toBe('prep-2')
    expect(planned.body.Env).toContain('CTR_JOB_DIR=/ctr/workspace/jobs/prep-2')
  })

  it('hands a job the changed files its changed_files matched, only when it has the filter', () => {
    const files = ['data/a.csv', 'data/b c.csv']
    const filtered = planContainer(jobWith({}), { ...ctx, changedFiles: files })
    expect(filtered.body.Env).toContain('CTR_CHANGED_FILES=data/a.csv\ndata/b c.csv')
    const plain = planContainer(jobWith({}), ctx)
    expect(plain.body.Env.some((e) => e.startsWith('CTR_CHANGED_FILES='))).toBe(false)
  })

  it("runs a job without stages with the image's entrypoint and the given command", () => {
    const { body } = planContainer(jobWith({ command: ['--rows', '5'] }, false), ctx)
    expect(body.Entrypoint).toBeUndefined()
    expect(body.Cmd).toEqual(['--rows', '5'])
    expect([body.AttachStdout, body.AttachStderr]).toEqual([true, true])
  })

  it.each([
    ['memory', '99999999999999999999999g'],
    ['cpu', '1e7'],
    ['cpu', '2000000']
  ])('refuses a templated %s that renders out of range (%s)', (key, rendered) => {
    const job = jobWith({ resources: { [key]: '{{ params.dataset }}' } })
    const renders = {
      ...ctx,
      renderValue: (text: string) => text.replace('{{ params.dataset }}', rendered)
    }
    expect(() => planContainer(job, renders)).toThrow(
      `resources.${key}: '${rendered}' is not valid`
    )
  })

  it.each([
    [
      { memory: '256m', memory_reservation: '{{ params.dataset }}' },
      '1g',
      'resources.memory_reservation (1g) is more than resources.memory (256m): a job cannot be sure of more than it may use'
    ],
    [
      { cpu: '0.5', cpu_reservation: '{{ params.dataset }}' },
      '2',
      'resources.cpu_reservation (2) is more than resources.cpu (0.5): a job cannot be sure of more than it may use'
    ]
  ])('refuses a reservation that renders above its limit: %j', (resources, rendered, message) => {
    const renders = {
      ...ctx,
      renderValue: (text: string) => text.replace('{{ params.dataset }}', rendered)
    }
    expect(() => planContainer(jobWith({ resources }), renders)).toThrow(message)
  })

  it('refuses a templated size that renders to nonsense', () => {
    const job = jobWith({ resources: { memory: '{{ params.dataset }}' } })
    expect(() => planContainer(job, ctx)).toThrow("resources.memory: 'sales' is not valid")
  })
})
