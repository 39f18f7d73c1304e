import type { ContainerCreateBody, PlannedContainer } from '../../src/plan/container-plan.js'
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

type Host = Partial<ContainerCreateBody['HostConfig']>

function planned(host: Host = {}, image?: Partial<BuiltImage>): PlannedContainer {
  return {
    name: 'c',
    body: {
      Image: 'img',
      Env: [],
      Labels: {},
      HostConfig: {
        NetworkMode: 'ctr-pipeline-r1',
        Mounts: [{ Type: 'volume', Source: 'ctr-pipeline-r1', Target: '/ctr', ReadOnly: false }],
        ...host
      }
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

const bind = (Source: string) => ({ Type: 'bind' as const, Source, Target: '/m', ReadOnly: false })

describe('enforceUntrusted', () => {
  it.each<[string, PlannedContainer, string[]]>([
    ['the run network and volume', planned(), []],
    ['no network', planned({ NetworkMode: 'none' }), []],
    ['a bind in the workspace', planned({ Mounts: [bind('/repo/data')] }), []],
    ['the workspace itself', planned({ Mounts: [bind('/repo')] }), []],
    [
      'a run-owned named volume',
      planned({
        Mounts: [{ Type: 'volume', Source: 'ctr-pipeline-r1-cache', Target: '/c', ReadOnly: true }]
      }),
      []
    ],
    ['a file named ..x inside', planned({ Mounts: [bind('/repo/..x')] }), []],
    [
      'a build in the workspace',
      planned({}, { context: '/repo/img', dockerfile: 'Dockerfile' }),
      []
    ],
    [
      'bounds asked within the host',
      planned({ PidsLimit: 4096, Memory: 8 * GiB, NanoCpus: 4e9 }),
      []
    ],
    [
      'privileged',
      planned({ Privileged: true }),
      ['privileged: true gives the job the whole host']
    ],
    [
      'cap_add',
      planned({ CapAdd: ['SYS_ADMIN', 'NET_ADMIN'] }),
      ['cap_add: SYS_ADMIN, NET_ADMIN widens what the job may do']
    ],
    [
      'gpus',
      planned({ DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }] }),
      ['resources.gpus: hands the job host devices']
    ],
    [
      'host network',
      planned({ NetworkMode: 'host' }),
      ["network.network_mode: 'host' is not the run's own network (only the run's network or none)"]
    ],
    [
      'the default bridge',
      planned({ NetworkMode: 'bridge' }),
      [
        "network.network_mode: 'bridge' is not the run's own network (only the run's network or none)"
      ]
    ],
    [
      "another container's namespaces",
      planned({ NetworkMode: 'container:abc' }),
      [
        "network.network_mode: 'container:abc' is not the run's own network (only the run's network or none)"
      ]
    ],
    [
      'no network mode at all',
      planned({ NetworkMode: undefined }),
      [
        "network.network_mode: 'default' is not the run's own network (only the run's network or none)"
      ]
    ],
    [
      'the Docker socket',
      planned({ Mounts: [bind('/var/run/docker.sock')] }),
      ['volumes: /var/run/docker.sock (at /m) is outside the workspace /repo']
    ],
    [
      'a sibling with the same prefix',
      planned({ Mounts: [bind('/repo2')] }),
      ['volumes: /repo2 (at /m) is outside the workspace /repo']
    ],
    [
      'the parent',
      planned({ Mounts: [bind('/')] }),
      ['volumes: / (at /m) is outside the workspace /repo']
    ],
    [
      "another run's volume",
      planned({ Mounts: [{ Type: 'volume', Source: 'team-data', Target: '/t', ReadOnly: false }] }),
      ["volumes: volume 'team-data' (at /t) is not one the run creates"]
    ],
    [
      'a build context outside',
      planned({}, { context: '/', dockerfile: 'repo/Dockerfile' }),
      ['build.context: / is outside the workspace /repo']
    ],
    [
      'a Dockerfile outside',
      planned({}, { context: '/repo', dockerfile: '../etc/Dockerfile' }),
      ['build.dockerfile: /etc/Dockerfile is outside the workspace /repo']
    ],
    [
      'a port on every address',
      planned({ PortBindings: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] } }),
      ['network.ports: 80/tcp is published on 0.0.0.0 (only 127.0.0.1)']
    ],
    [
      'a port on IPv6 any',
      planned({ PortBindings: { '80/tcp': [{ HostIp: '::', HostPort: '' }] } }),
      ['network.ports: 80/tcp is published on :: (only 127.0.0.1)']
    ],
    [
      'pids_limit -1',
      planned({ PidsLimit: -1 }),
      ['resources.pids_limit: -1 is not between 1 and 4096']
    ],
    [
      'pids_limit 0',
      planned({ PidsLimit: 0 }),
      ['resources.pids_limit: 0 is not between 1 and 4096']
    ],
    [
      'pids_limit too high',
      planned({ PidsLimit: 100000 }),
      ['resources.pids_limit: 100000 is not between 1 and 4096']
    ],
    [
      'more memory than the host',
      planned({ Memory: 9 * GiB }),
      [`resources.memory: ${9 * GiB} bytes is more than the host's ${8 * GiB}`]
    ],
    [
      'unlimited swap',
      planned({ Memory: GiB, MemorySwap: -1 }),
      ['resources.memswap_limit: -1 (unlimited swap)']
    ],
    [
      'more CPUs than the host',
      planned({ NanoCpus: 5e9 }),
      ["resources.cpu: 5 is more than the host's 4"]
    ]
  ])('%s', (_what, container, refused) => {
    expect(enforceUntrusted(container, scope)).toEqual(refused)
  })

  it('fills in the bounds the file leaves out, and publishes ports on loopback', () => {
    const container = planned({ PortBindings: { '80/tcp': [{ HostPort: '8080' }] } })
    expect(enforceUntrusted(container, scope)).toEqual([])
    expect(container.body.HostConfig).toMatchObject({
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 1024,
      Memory: 4 * GiB,
      NanoCpus: 2e9,
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] }
    })
  })

  it('keeps what the file asks for within the bounds', () => {
    const container = planned({ PidsLimit: 64, Memory: GiB, NanoCpus: 5e8 })
    enforceUntrusted(container, scope)
    expect(container.body.HostConfig).toMatchObject({ PidsLimit: 64, Memory: GiB, NanoCpus: 5e8 })
  })

  it('gives one CPU on a one-CPU host', () => {
    const container = planned()
    enforceUntrusted(container, { ...scope, hostCpus: 1 })
    expect(container.body.HostConfig.NanoCpus).toBe(1e9)
  })
})
