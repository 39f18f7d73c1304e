import {
  BACKEND_NAMES,
  chooseBackend,
  createBackend,
  parseEngineHost,
  parseRegistry,
  parseTimeout
} from '../../src/app/backends.js'
import { describeError } from '../../src/app/errors.js'
import type { SwarmBackend } from '../../src/backend/swarm/swarm-backend.js'

describe('chooseBackend and createBackend', () => {
  it.each([
    [undefined, 'docker'],
    ['', 'docker'],
    [' docker ', 'docker'],
    ['swarm', 'swarm']
  ])('%j is the %s backend', (name, expected) => {
    expect(createBackend(chooseBackend(name, '--backend'), {}).name).toBe(expected)
  })

  it.each([
    ['k8s', '--backend', "--backend: no backend 'k8s' (known: docker, swarm)"],
    ['Docker', "input 'backend'", "input 'backend': no backend 'Docker' (known: docker, swarm)"],
    ['__proto__', '--backend', "--backend: no backend '__proto__' (known: docker, swarm)"]
  ])('refuses %s from %s as a usage error (exit 2)', (name, source, message) => {
    let error: unknown
    try {
      chooseBackend(name, source)
    } catch (e) {
      error = e
    }
    expect(describeError(error)).toEqual({ status: 2, message })
  })

  it('hands the schedule timeout to the swarm backend, 3 minutes unless given', () => {
    const timeout = (options?: { scheduleTimeoutMs?: number }) =>
      (createBackend(chooseBackend('swarm', '--backend', options), {}) as SwarmBackend)
        .scheduleTimeoutMs
    expect([timeout(), timeout({ scheduleTimeoutMs: 5000 })]).toEqual([180_000, 5000])
  })

  it.each([
    [
      'swarm',
      { DOCKER_HOST: 'unix:///run/other.sock' },
      'tcp://10.0.0.1:2375',
      'tcp://10.0.0.1:2375'
    ],
    ['swarm', { DOCKER_HOST: 'unix:///run/other.sock' }, undefined, 'unix:///run/other.sock'],
    ['docker', { DOCKER_HOST: 'tcp://10.0.0.2:2375' }, undefined, 'tcp://10.0.0.2:2375']
  ])(
    '%s with DOCKER_HOST %j and host %s runs at %s, writing nothing to the environment',
    (name, env, host, where) => {
      const before = { ...process.env }
      expect(createBackend(chooseBackend(name, '--backend', { host }), env).where()).toBe(where)
      expect(process.env).toEqual(before)
    }
  )

  it('lists the default first', () => {
    expect(BACKEND_NAMES[0]).toBe('docker')
  })
})

describe('parseRegistry', () => {
  it.each<[string, string | undefined]>([
    ['registry.example.com', 'registry.example.com'],
    [' 10.231.0.1:5000 ', '10.231.0.1:5000'],
    ['localhost:5000/team/ci', 'localhost:5000/team/ci'],
    ['ghcr.io/my-org', 'ghcr.io/my-org'],
    ['https://registry.example.com', undefined],
    ['registry.example.com/', undefined],
    ['registry.example.com:port', undefined],
    ['ghcr.io/My-Org', undefined],
    ['-registry', undefined],
    ['two words', undefined],
    ['', undefined]
  ])('%j is %j', (text, expected) => {
    expect(parseRegistry(text)).toBe(expected)
  })
})

describe('parseTimeout', () => {
  it.each<[string, number | undefined]>([
    ['90s', 90_000],
    ['5m', 300_000],
    ['0s', undefined],
    ['soon', undefined],
    ['', undefined]
  ])('%j is %j', (text, expected) => {
    expect(parseTimeout(text)).toBe(expected)
  })
})

describe('parseEngineHost', () => {
  it.each<[string, string | undefined]>([
    ['unix:///run/docker.sock', 'unix:///run/docker.sock'],
    ['tcp://10.0.0.1:2376', 'tcp://10.0.0.1:2376'],
    [' ssh://ci@manager ', 'ssh://ci@manager'],
    ['manager:2375', undefined],
    ['http://manager:2375', undefined],
    ['tcp://', undefined]
  ])('%j is %j', (text, expected) => {
    expect(parseEngineHost(text)).toBe(expected)
  })
})
