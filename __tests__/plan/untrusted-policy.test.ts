import type {
  ContainerPlan,
  MountPlan,
  NetworkPlan,
  ResourcesPlan,
  SecurityPlan
} from '../../src/plan/container-plan.js'
import type { BuiltImage } from '../../src/plan/image-plan.js'
import { enforceUntrusted, type UntrustedScope } from '../../src/plan/untrusted-policy.js'

const GiB = 1024 ** 3
const scope: UntrustedScope = {
  workspace: '/repo',
  networks: ['ctr-pipeline-r1'],
  volumes: ['ctr-pipeline-r1', 'ctr-pipeline-r1-cache'],
  hostCpus: 4,
  hostMemory: 8 * GiB
}

interface Asked {
  mounts?: MountPlan[]
  network?: Partial<NetworkPlan>
  resources?: Partial<ResourcesPlan>
  security?: Partial<SecurityPlan>
}

function planned(asked: Asked = {}, image?: Partial<BuiltImage>): ContainerPlan {
  return {
    runId: 'r1',
    name: 'c',
    runs: 'stages',
    env: {},
    labels: {},
    mounts: asked.mounts ?? [{ type: 'workspace', target: '/ctr' }],
    resources: { ulimits: [], ...asked.resources },
    network: {
      mode: 'ctr-pipeline-r1',
      aliases: [],
      ports: [],
      extraHosts: [],
      dns: [],
      ...asked.network
    },
    security: {
      privileged: false,
      capAdd: [],
      capDrop: [],
      readOnlyRootfs: false,
      noNewPrivileges: false,
      ...asked.security
    },
    image: image
      ? {
          kind: 'build',
          ref: 't',
          context: '/repo',
          dockerfile: 'Dockerfile',
          args: {},
          pullBase: false,
          ...image
        }
      : { kind: 'pull', ref: 'img', policy: 'missing' }
  }
}

const bind = (source: string): MountPlan => ({
  type: 'bind',
  source,
  target: '/m',
  readOnly: false
})

describe('enforceUntrusted', () => {
  it.each<[string, ContainerPlan, string[]]>([
    ['the run network and volume', planned(), []],
    ['no network', planned({ network: { mode: 'none' } }), []],
    ['a bind in the workspace', planned({ mounts: [bind('/repo/data')] }), []],
    ['the workspace itself', planned({ mounts: [bind('/repo')] }), []],
    [
      'a run-owned named volume',
      planned({
        mounts: [{ type: 'volume', source: 'ctr-pipeline-r1-cache', target: '/c', readOnly: true }]
      }),
      []
    ],
    ['a file named ..x inside', planned({ mounts: [bind('/repo/..x')] }), []],
    [
      'bounds asked within the host',
      planned({ resources: { pidsLimit: 4096, memoryBytes: 8 * GiB, cpus: 4 } }),
      []
    ],
    [
      'privileged',
      planned({ security: { privileged: true } }),
      ['privileged: true gives the job the whole host']
    ],
    [
      'cap_add',
      planned({ security: { capAdd: ['SYS_ADMIN', 'NET_ADMIN'] } }),
      ['cap_add: SYS_ADMIN, NET_ADMIN widens what the job may do']
    ],
    [
      'gpus',
      planned({ resources: { gpus: { driver: '', count: -1, capabilities: ['gpu'] } } }),
      ['resources.gpus: hands the job host devices']
    ],
    [
      'host network',
      planned({ network: { mode: 'host' } }),
      ["network.network_mode: 'host' is not the run's own network (only the run's network or none)"]
    ],
    [
      'the default bridge',
      planned({ network: { mode: 'bridge' } }),
      [
        "network.network_mode: 'bridge' is not the run's own network (only the run's network or none)"
      ]
    ],
    [
      "another container's namespaces",
      planned({ network: { mode: 'container:abc' } }),
      [
        "network.network_mode: 'container:abc' is not the run's own network (only the run's network or none)"
      ]
    ],
    [
      'the Docker socket',
      planned({ mounts: [bind('/var/run/docker.sock')] }),
      ['volumes: /var/run/docker.sock (at /m) is outside the workspace /repo']
    ],
    [
      'a sibling with the same prefix',
      planned({ mounts: [bind('/repo2')] }),
      ['volumes: /repo2 (at /m) is outside the workspace /repo']
    ],
    [
      'the parent',
      planned({ mounts: [bind('/')] }),
      ['volumes: / (at /m) is outside the workspace /repo']
    ],
    [
      "another run's volume",
      planned({ mounts: [{ type: 'volume', source: 'team-data', target: '/t', readOnly: false }] }),
      ["volumes: volume 'team-data' (at /t) is not one the run creates"]
    ],
    [
      'a build, even in the workspace (item 7)',
      planned({}, { context: '/repo/img', dockerfile: 'Dockerfile' }),
      [
        'build: an untrusted pipeline builds no image (a build has no process or memory limit, and its tag stays on the engine): build it in a trusted workflow and name it in image:'
      ]
    ],
    [
      'a build tagged with a name the engine keeps (item 3)',
      planned({}, { context: '/repo', name: 'python:3.11-slim' }),
      [
        'build: an untrusted pipeline builds no image (a build has no process or memory limit, and its tag stays on the engine): build it in a trusted workflow and name it in image:'
      ]
    ],
    [
      'a build that pushes (item 4)',
      planned({}, { context: '/repo', name: 'reg.example/team/x:1', push: true }),
      [
        'build: an untrusted pipeline builds no image (a build has no process or memory limit, and its tag stays on the engine): build it in a trusted workflow and name it in image:'
      ]
    ],
    [
      'registry credentials, once rendered (item 5)',
      {
        ...planned(),
        image: {
          kind: 'pull',
          ref: 'reg.attacker.example/x',
          policy: 'missing',
          auth: { username: 'u', password: 'token', serveraddress: 'reg.attacker.example' }
        }
      },
      ["auth: hands registry credentials to the engine, which sends them from the host's network"]
    ],
    [
      'kernel ulimits (item 18)',
      planned({
        resources: {
          ulimits: [
            { name: 'nofile', soft: 1024, hard: 1024 },
            { name: 'nproc', soft: 64, hard: 64 },
            { name: 'memlock', soft: -1, hard: -1 },
            { name: 'rtprio', soft: 99, hard: 99 },
            { name: 'core', soft: -1, hard: -1 }
          ]
        }
      }),
      [
        "ulimits.memlock: changes a limit of the kernel's (only nofile and nproc)",
        "ulimits.rtprio: changes a limit of the kernel's (only nofile and nproc)",
        "ulimits.core: changes a limit of the kernel's (only nofile and nproc)"
      ]
    ],
    [
      'a port on every address',
      planned({
        network: { ports: [{ container: '80/tcp', hostIp: '0.0.0.0', hostPort: '8080' }] }
      }),
      ['network.ports: 80/tcp is published on 0.0.0.0 (only 127.0.0.1)']
    ],
    [
      'a port on IPv6 any',
      planned({ network: { ports: [{ container: '80/tcp', hostIp: '::', hostPort: '' }] } }),
      ['network.ports: 80/tcp is published on :: (only 127.0.0.1)']
    ],
    [
      'pids_limit -1',
      planned({ resources: { pidsLimit: -1 } }),
      ['resources.pids_limit: -1 is not between 1 and 4096']
    ],
    [
      'pids_limit 0',
      planned({ resources: { pidsLimit: 0 } }),
      ['resources.pids_limit: 0 is not between 1 and 4096']
    ],
    [
      'pids_limit too high',
      planned({ resources: { pidsLimit: 100000 } }),
      ['resources.pids_limit: 100000 is not between 1 and 4096']
    ],
    [
      'more memory than the host',
      planned({ resources: { memoryBytes: 9 * GiB } }),
      [`resources.memory: ${9 * GiB} bytes is more than the host's ${8 * GiB}`]
    ],
    [
      'unlimited swap',
      planned({ resources: { memoryBytes: GiB, memorySwapBytes: -1 } }),
      ['resources.memswap_limit: -1 (unlimited swap)']
    ],
    [
      'more CPUs than the host',
      planned({ resources: { cpus: 5 } }),
      ["resources.cpu: 5 is more than the host's 4"]
    ]
  ])('%s', (_what, container, refused) => {
    expect(enforceUntrusted(container, scope)).toEqual(refused)
  })

  it('fills in the bounds the file leaves out, and publishes ports on loopback', () => {
    const container = planned({ network: { ports: [{ container: '80/tcp', hostPort: '8080' }] } })
    expect(enforceUntrusted(container, scope)).toEqual([])
    expect(container.security.noNewPrivileges).toBe(true)
    expect(container.resources).toEqual({
      ulimits: [],
      pidsLimit: 1024,
      memoryBytes: 4 * GiB,
      cpus: 2
    })
    expect(container.network.ports).toEqual([
      { container: '80/tcp', hostIp: '127.0.0.1', hostPort: '8080' }
    ])
  })

  it('keeps what the file asks for within the bounds', () => {
    const container = planned({ resources: { pidsLimit: 64, memoryBytes: GiB, cpus: 0.5 } })
    enforceUntrusted(container, scope)
    expect(container.resources).toEqual({ ulimits: [], pidsLimit: 64, memoryBytes: GiB, cpus: 0.5 })
  })

  it('gives one CPU on a one-CPU host', () => {
    const container = planned()
    enforceUntrusted(container, { ...scope, hostCpus: 1 })
    expect(container.resources.cpus).toBe(1)
  })
})
