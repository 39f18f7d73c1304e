import { trustProblems, type HostAccess } from '../../src/spec/host-access.js'
import type { JobSpec } from '../../src/spec/pipeline-types.js'

const at = { file: 'p.yml', line: 3, col: 5 }
const access = (kind: HostAccess['kind'], hostPath?: string): HostAccess => ({
  ...at,
  kind,
  job: 'a',
  message: `jobs.a: ${kind}`,
  ...(hostPath ? { hostPath } : {})
})
const jobs = (allow: boolean) => [{ id: 'a', allow_host_access: allow } as JobSpec]

describe('trustProblems', () => {
  it.each<[string, HostAccess, boolean, boolean, string | undefined]>([
    // [what, access, untrusted, allow_host_access, refused because...]
    ['trusted: privileged', access('privileged'), false, false, undefined],
    ['trusted: host network', access('host_network'), false, false, undefined],
    ['trusted: a host path', access('host_path', '/etc'), false, false, undefined],
    [
      'trusted: the socket',
      access('docker_socket', '/var/run/docker.sock'),
      false,
      false,
      'set allow_host_access: true'
    ],
    [
      'trusted: the socket, allowed',
      access('docker_socket', '/var/run/docker.sock'),
      false,
      true,
      undefined
    ],
    ['trusted: /', access('host_root', '/'), false, false, 'set allow_host_access: true'],
    [
      'untrusted: privileged',
      access('privileged'),
      true,
      false,
      'refused for an untrusted pipeline'
    ],
    ['untrusted: cap_add', access('cap_add'), true, false, 'refused for an untrusted pipeline'],
    [
      'untrusted: host network',
      access('host_network'),
      true,
      false,
      'refused for an untrusted pipeline'
    ],
    [
      'untrusted: the socket, even allowed',
      access('docker_socket', '/run/docker.sock'),
      true,
      true,
      'refused'
    ],
    [
      'untrusted: a path in the workspace',
      access('host_path', '/repo/data'),
      true,
      false,
      undefined
    ],
    ['untrusted: the workspace itself', access('host_path', '/repo'), true, false, undefined],
    [
      'untrusted: a path outside',
      access('host_path', '/etc'),
      true,
      false,
      'only paths inside /repo'
    ],
    [
      'untrusted: a sibling with the same prefix',
      access('host_path', '/repo2'),
      true,
      false,
      'only paths inside /repo'
    ],
    [
      'untrusted: a path not known yet',
      access('host_path', '/repo/{{ x }}'),
      true,
      false,
      'only paths inside /repo'
    ]
  ])('%s', (_what, found, untrusted, allow, refused) => {
    const problems = trustProblems([found], jobs(allow), { untrusted, workspace: '/repo' })
    if (refused === undefined) expect(problems).toEqual([])
    else expect(problems).toEqual([{ ...at, message: expect.stringContaining(refused) }])
  })
})
