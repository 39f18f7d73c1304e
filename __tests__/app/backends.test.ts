import { BACKEND_NAMES, createBackend } from '../../src/app/backends.js'
import { describeError } from '../../src/app/errors.js'
import type { SwarmBackend } from '../../src/backend/swarm/swarm-backend.js'

describe('createBackend', () => {
  it.each([
    [undefined, 'docker'],
    ['', 'docker'],
    [' docker ', 'docker'],
    ['swarm', 'swarm']
  ])('%j is the %s backend', (name, expected) => {
    expect(createBackend(name, '--backend').name).toBe(expected)
  })

  it.each([
    ['k8s', '--backend', "--backend: no backend 'k8s' (known: docker, swarm)"],
    ['Docker', "input 'backend'", "input 'backend': no backend 'Docker' (known: docker, swarm)"],
    ['__proto__', '--backend', "--backend: no backend '__proto__' (known: docker, swarm)"]
  ])('refuses %s from %s as a usage error (exit 2)', (name, source, message) => {
    let error: unknown
    try {
      createBackend(name, source)
    } catch (e) {
      error = e
    }
    expect(describeError(error)).toEqual({ status: 2, message })
  })

  it('hands the schedule timeout to the swarm backend, 3 minutes unless given', () => {
    const timeout = (options?: { scheduleTimeoutMs?: number }) =>
      (createBackend('swarm', '--backend', options) as SwarmBackend).scheduleTimeoutMs
    expect([timeout(), timeout({ scheduleTimeoutMs: 5000 })]).toEqual([180_000, 5000])
  })

  it('lists the default first', () => {
    expect(BACKEND_NAMES[0]).toBe('docker')
  })
})
