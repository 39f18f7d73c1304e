import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { trustProblems, type HostAccess } from '../../src/pipeline/host-access.js'
import type { JobSpec } from '../../src/pipeline/pipeline-types.js'

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
    ],
    ['trusted: an external volume', access('shared_volume'), false, false, undefined],
    ['trusted: a volume driver', access('volume_driver'), false, false, undefined],
    [
      'untrusted: an external volume',
      access('shared_volume'),
      true,
      false,
      'refused for an untrusted pipeline'
    ],
    [
      'untrusted: driver_opts',
      access('volume_driver'),
      true,
      false,
      'refused for an untrusted pipeline'
    ]
  ])('%s', (_what, found, untrusted, allow, refused) => {
    const problems = trustProblems([found], jobs(allow), { untrusted, workspace: '/repo' })
    if (refused === undefined) expect(problems).toEqual([])
    else expect(problems).toEqual([{ ...at, message: expect.stringContaining(refused) }])
  })
})

describe('findHostAccess of top-level volumes', () => {
  const text = `volumes:
  theirs: {external: true}
  named: {name: team-data}
  binder: {driver_opts: {type: none, o: bind, device: /var/run}}
  plugin: {driver: local}
  ours: {}
jobs:
  a: {runs-on: {with: {image: x}}, stages: [{name: s, type: sh, run: 'true'}]}
`
  it('names each volume the run does not own, or whose driver decides what it is, at its line', () => {
    const found = parsePipeline(text, 'p.yml', '/repo').hostAccess.map(
      (a) => `${a.line}:${a.col} ${a.kind} ${a.message}`
    )
    expect(found).toEqual([
      '2:22 shared_volume volumes.theirs: an external volume is shared with whoever else uses it',
      "3:17 shared_volume volumes.named: the engine's volume 'team-data' is shared with whoever else uses it",
      '4:25 volume_driver volumes.binder: driver_opts can bind a host folder (o: bind)',
      "5:20 volume_driver volumes.plugin: driver 'local' decides what the volume is"
    ])
  })
})
