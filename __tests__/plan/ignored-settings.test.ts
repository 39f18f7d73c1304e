import type { NetworkPlan } from '../../src/plan/container-plan.js'
import { ignoredSettings } from '../../src/plan/ignored-settings.js'

const network = (mode: string, ports: NetworkPlan['ports']): NetworkPlan => ({
  mode,
  ports,
  aliases: [],
  extraHosts: [],
  dns: []
})

describe('ignoredSettings', () => {
  it.each([
    ['host', [], []],
    ['ctr-pipeline-r1', [{ container: '80/tcp', hostPort: '8080' }], []],
    ['bridge', [{ container: '80/tcp', hostPort: '' }], []],
    [
      'host',
      [
        { container: '80/tcp', hostPort: '8080' },
        { container: '53/udp', hostIp: '127.0.0.1', hostPort: '5353' }
      ],
      [
        "network_mode: host ignores ports (80/tcp -> 8080, 53/udp -> 127.0.0.1:5353): the container listens on the host's own ports"
      ]
    ],
    [
      'none',
      [{ container: '80/tcp', hostPort: '' }],
      [
        'network_mode: none ignores ports (80/tcp -> (any)): the container has no network to publish on'
      ]
    ]
  ])('network_mode %s with ports %j', (mode, ports, expected) => {
    expect(ignoredSettings({ network: network(mode, ports) })).toEqual(expected)
  })
})
