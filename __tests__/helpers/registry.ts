import { execFileSync, spawn } from 'node:child_process'
import { openSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BUSYBOX, docker, tempDir } from './engine.js'
import { freePort } from './net.js'

/** A registry for the tests: Debian's docker-registry on loopback, with htpasswd auth. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`: loopback registries are plain HTTP to the engine by default. */
  host: string
  username: string
  password: string
  /** An image pushed to it and not on the engine under that name. */
  image: string
  stop(): Promise<void>
}

/**
 * Starts a registry with one user, pushes the busybox fixture to it as
 * `HOST/ctr-test/busybox:1`, and removes that name from the engine so a run must pull it.
 */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = tempDir('ctr-registry-')
  const username = 'ctr-tester'
  const password = `pw-${Math.random().toString(36).slice(2)}`
  execFileSync('htpasswd', ['-Bbc', path.join(dir, 'htpasswd'), username, password], {
    stdio: 'ignore'
  })
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  writeFileSync(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${dir}/data}}`,
      `http: {addr: "${host}"}`,
      `auth: {htpasswd: {realm: ctr-test, path: ${dir}/htpasswd}}`
    ].join('\n')
  )
  const log = openSync(path.join(dir, 'registry.log'), 'a')
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', log, log]
  })
  const deadline = Date.now() + 15_000
  for (;;) {
    // Up once it asks for credentials.
    const status = await fetch(`http://${host}/v2/`).then(
      (r) => r.status,
      () => 0
    )
    if (status === 401) break
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill()
      throw new Error(`docker-registry did not start on ${host}; see ${dir}/registry.log`)
    }
    await sleep(100)
  }
  const image = `${host}/ctr-test/busybox:1`
  await docker.getImage(BUSYBOX).tag({ repo: `${host}/ctr-test/busybox`, tag: '1' })
  const pushed = await docker
    .getImage(image)
    .push({ authconfig: { username, password, serveraddress: host } })
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(
      pushed,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: { error?: string }) => event.error && reject(new Error(event.error))
    )
  )
  await docker.getImage(image).remove()
  return {
    host,
    username,
    password,
    image,
    stop: async () => {
      await docker
        .getImage(image)
        .remove()
        .catch(() => undefined)
      child.kill()
      await new Promise((resolve) =>
        child.exitCode !== null ? resolve(null) : child.on('exit', resolve)
      )
    }
  }
}
