import {
  hostPathOf,
  NotOnHostError,
  ownContainerIds,
  type OwnContainer
} from '../../../src/backend/docker/own-container.js'

const ID = 'a'.repeat(64)
const OTHER = 'b'.repeat(64)

describe('ownContainerIds', () => {
  it.each<[string, string, string, string, string[]]>([
    ['nothing in a container', '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n', '0::/\n', 'vm', []],
    [
      'the engine mounts its hosts files (cgroup v2)',
      `540 520 8:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw - ext4 /dev/sda1 rw\n`,
      '0::/\n',
      'runner',
      [ID]
    ],
    ['cgroup v1 names it', '', `12:memory:/docker/${OTHER}\n`, 'x', [OTHER]],
    ['a systemd scope names it', '', `0::/system.slice/docker-${OTHER}.scope\n`, 'x', [OTHER]],
    [
      'every hint, the most certain first, once each',
      `1 2 8:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw\n`,
      `12:cpu:/docker/${ID}\n`,
      'aaaaaaaaaaaa',
      [ID, 'aaaaaaaaaaaa']
    ]
  ])('%s', (_, mountinfo, cgroup, host, expected) => {
    expect(ownContainerIds(mountinfo, cgroup, host)).toEqual(expected)
  })
})

describe('hostPathOf', () => {
  const own: OwnContainer = {
    id: ID,
    mounts: [
      { destination: '/__w', source: '/home/runner/work' },
      { destination: '/__w/repo/cache', source: '/var/lib/docker/volumes/cache/_data' },
      { destination: '/var/run/docker.sock', source: '/var/run/docker.sock' }
    ]
  }
  it.each([
    ['/__w/repo/examples/data', '/home/runner/work/repo/examples/data'],
    ['/__w', '/home/runner/work'],
    ['/__w/repo/cache/pip', '/var/lib/docker/volumes/cache/_data/pip'],
    ['/var/run/docker.sock', '/var/run/docker.sock']
  ])('%s is %s on the host', (file, expected) => {
    expect(hostPathOf(file, own)).toBe(expected)
  })

  it.each(['/etc', '/__work', '/'])('refuses %s, which is only in the container', (file) => {
    expect(() => hostPathOf(file, own)).toThrow(NotOnHostError)
    expect(() => hostPathOf(file, own)).toThrow(
      `mount source ${file} is inside this process's container (aaaaaaaaaaaa), in none of its mounts: the Docker engine reads mount sources on its host. Mount the folder into this container (its mounts: /__w, /__w/repo/cache, /var/run/docker.sock)`
    )
  })
})
