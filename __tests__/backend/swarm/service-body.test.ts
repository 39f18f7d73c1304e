import { serviceBody, tmpfsOptions } from '../../../src/backend/swarm/service-body.js'
import {
  planContainer,
  type ContainerPlan,
  type ContainerPlanContext
} from '../../../src/plan/container-plan.js'
import type { ContainerSpec } from '../../../src/pipeline/pipeline-types.js'
import { jobSpec } from '../../helpers/job-spec.js'

const ctx: ContainerPlanContext = {
  runId: 'r1',
  pipelineDir: '/repo',
  namedVolumes: {},
  runNetwork: 'ctr-pipeline-r1',
  renderValue: (text) => text
}

function plan(container: Partial<ContainerSpec>, stages = true): ContainerPlan {
  return planContainer({ job: jobSpec(container, stages), slug: 'prep' }, ctx)
}

const task = { name: 'ctr-r1-prep', command: ['sh', '-c', 'true'], env: ['CTR_OUTPUT=/o'] }

describe('serviceBody of a planned job container', () => {
  it('is one task that runs once, labelled on the service and its containers', () => {
    const spec = serviceBody(plan({}), task)
    const labels = {
      'ctr-pipeline.managed': 'true',
      'ctr-pipeline.run-id': 'r1',
      'ctr-pipeline.job': 'prep',
      'ctr-pipeline.instance': 'prep'
    }
    expect(spec.Name).toBe('ctr-r1-prep')
    expect(spec.Labels).toEqual(labels)
    expect(spec.TaskTemplate.ContainerSpec.Labels).toEqual(labels)
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } })
    expect(spec.TaskTemplate.ContainerSpec.StopSignal).toBe('SIGKILL')
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'none', MaxAttempts: 0 })
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr' })
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: 'ctr-pipeline-r1', Aliases: ['prep'] }])
    expect(spec.TaskTemplate.ContainerSpec.Command).toEqual(['sh', '-c', 'true'])
    expect(spec.TaskTemplate.ContainerSpec.Env.at(-1)).toBe('CTR_OUTPUT=/o')
    expect(spec.TaskTemplate.ContainerSpec.Mounts).toEqual([{ Type: 'volume', Target: '/ctr' }])
  })

  it.each<[string, Partial<ContainerSpec>, unknown]>([
    [
      'memory, cpus and pids as limits',
      { resources: { memory: '256m', cpu: '1.5', pids_limit: 64 } },
      { Limits: { MemoryBytes: 268435456, NanoCPUs: 1500000000, Pids: 64 } }
    ],
    [
      'reservations, where the file asks for them',
      { resources: { memory: '1g', memory_reservation: '512m', cpu_reservation: '0.25' } },
      {
        Limits: { MemoryBytes: 1073741824 },
        Reservations: { MemoryBytes: 536870912, NanoCPUs: 250000000 }
      }
    ],
    ['no limits when none are asked', {}, { Limits: {} }]
  ])('maps %s', (_name, container, resources) => {
    expect(serviceBody(plan(container), task).TaskTemplate.Resources).toEqual(resources)
  })

  it('maps the working folder, user, platform, hosts, dns, caps and a read-only root', () => {
    const spec = serviceBody(
      plan({
        working_dir: '/src',
        user: '1000:1000',
        platform: 'linux/arm64',
        read_only: true,
        cap_add: ['NET_ADMIN'],
        cap_drop: ['ALL'],
        network: { ports: {}, extra_hosts: { db: '10.0.0.5' }, dns: ['10.0.0.53'] }
      }),
      task
    )
    const c = spec.TaskTemplate.ContainerSpec
    expect([c.Dir, c.User, c.ReadOnly, c.CapabilityAdd, c.CapabilityDrop]).toEqual([
      '/src',
      '1000:1000',
      true,
      ['NET_ADMIN'],
      ['ALL']
    ])
    expect(c.Hosts).toEqual(['10.0.0.5 db'])
    expect(c.DNSConfig).toEqual({ Nameservers: ['10.0.0.53'] })
    expect(spec.TaskTemplate.Placement).toEqual({
      Platforms: [{ OS: 'linux', Architecture: 'arm64' }]
    })
  })

  it('maps placement constraints and spreads, rendered, to Placement', () => {
    const spec = serviceBody(
      plan({
        placement: {
          constraints: ['node.labels.disk == ssd', 'node.role != manager'],
          preferences: [{ spread: 'node.labels.zone' }]
        }
      }),
      task
    )
    expect(spec.TaskTemplate.Placement).toEqual({
      Constraints: ['node.labels.disk == ssd', 'node.role != manager'],
      Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }]
    })
  })

  it("gives a service its health check in nanoseconds, and a job's task its services' network", () => {
    const service: ContainerPlan = {
      ...plan({}, false),
      healthcheck: {
        test: ['CMD', 'true'],
        intervalMs: 200,
        timeoutMs: 1000,
        retries: 3,
        startPeriodMs: 0
      }
    }
    expect(serviceBody(service, task).TaskTemplate.ContainerSpec.Healthcheck).toEqual({
      Test: ['CMD', 'true'],
      Interval: 200_000_000,
      Timeout: 1_000_000_000,
      Retries: 3,
      StartPeriod: 0
    })
    const joined = serviceBody(plan({}), {
      ...task,
      networks: [{ Target: 'ctr-r1-prep-services', Aliases: ['prep'] }]
    })
    expect(joined.TaskTemplate.Networks).toEqual([
      { Target: 'ctr-pipeline-r1', Aliases: ['prep'] },
      { Target: 'ctr-r1-prep-services', Aliases: ['prep'] }
    ])
    expect(joined.TaskTemplate.ContainerSpec.Healthcheck).toBeUndefined()
  })

  it('runs a built image by the digest it is given, not by the run tag', () => {
    const built = plan({ build: { context: '.', args: {} } })
    const image = '10.0.0.1:5000/ctr-pipeline-build/prep:r1-ab@sha256:' + '0'.repeat(64)
    expect(serviceBody(built, { ...task, image }).TaskTemplate.ContainerSpec.Image).toBe(image)
  })

  it("runs a job's own command as entrypoint and args when the task gives none", () => {
    const spec = serviceBody(plan({ entrypoint: ['/run'], command: ['--fast'] }, false), {
      name: 'n',
      env: []
    })
    expect(spec.TaskTemplate.ContainerSpec.Command).toEqual(['/run'])
    expect(spec.TaskTemplate.ContainerSpec.Args).toEqual(['--fast'])
  })

  it("mounts a named volume the workspace service keeps as the task's own, an external one by name", () => {
    const volumes = { cache: 'ctr-pipeline-r1-cache', shared: 'shared' }
    const container = planContainer(
      {
        job: jobSpec(
          {
            volumes: [
              { source: 'cache', target: '/cache', mode: 'ro' },
              { source: 'shared', target: '/shared', mode: 'rw' }
            ]
          },
          true
        ),
        slug: 'prep'
      },
      { ...ctx, namedVolumes: volumes }
    )
    const spec = serviceBody(container, { ...task, served: new Set(['ctr-pipeline-r1-cache']) })
    expect(spec.TaskTemplate.ContainerSpec.Mounts).toEqual([
      { Type: 'volume', Target: '/ctr' },
      { Type: 'volume', Target: '/cache' },
      { Type: 'volume', Source: 'shared', Target: '/shared', ReadOnly: false }
    ])
  })

  it.each<[Partial<ContainerSpec>, string]>([
    [
      { privileged: true },
      'privileged: true is not available on the swarm backend (run it with --backend docker)'
    ],
    [
      { network: { network_mode: 'host', ports: {}, extra_hosts: {}, dns: [] } },
      "network.network_mode 'host' is not available on the swarm backend (run it with --backend docker)"
    ],
    [
      { network: { ports: { '80': '8080' }, extra_hosts: {}, dns: [] } },
      'network.ports (published ports) is not available on the swarm backend (run it with --backend docker)'
    ],
    [
      { resources: { shm_size: '1g' } },
      'resources.shm_size is not available on the swarm backend (run it with --backend docker)'
    ]
  ])('refuses %j with one line', (container, message) => {
    expect(() => serviceBody(plan(container), task)).toThrow(message)
  })
})

describe('tmpfsOptions', () => {
  it.each<[string, unknown]>([
    ['size=64m,mode=1777', { TmpfsOptions: { SizeBytes: 67108864, Mode: 0o1777 } }],
    ['size=4096', { TmpfsOptions: { SizeBytes: 4096 } }],
    ['rw,noexec', {}],
    ['', {}]
  ])('reads %j', (text, options) => {
    expect(tmpfsOptions(text)).toEqual(options)
  })

  it('names a size it cannot read', () => {
    expect(() => tmpfsOptions('size=lots')).toThrow("tmpfs size 'lots' is not a size (such as 64m)")
  })
})
