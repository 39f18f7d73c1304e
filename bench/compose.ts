/**
 * Docker Compose as a peer: what users reach for first to run a DAG of containers on one
 * engine. Debian's `docker-compose` (1.29, the Python one); measured as `up` (which
 * waits for every service) plus `down` (its cleanup), as ctr-pipeline's runs include theirs.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { IMAGE, workDir } from './measure.js'

/** Whether `docker-compose` is on the PATH; the bench says how to get it when not. */
export function composeAvailable(): boolean {
  return spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0
}

/** A compose file of one-command services; `after` chains each to the one before it. */
export function composeFile(
  name: string,
  services: Array<{ id: string; command: string; after?: string }>
): string {
  const lines = ["version: '2.4'", 'services:']
  for (const s of services) {
    lines.push(`  ${s.id}:`, `    image: ${IMAGE}`, `    command: [sh, -c, '${s.command}']`)
    if (s.after)
      lines.push(`    depends_on:`, `      ${s.after}: {condition: service_completed_successfully}`)
  }
  const file = path.join(workDir(), `${name}.compose.yml`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

/** `docker-compose up` (until every service ended) then `down`, with extra environment. */
export function composeUpDown(file: string, env: NodeJS.ProcessEnv = {}): void {
  const project = ['-p', `ctrbench${path.basename(file).replace(/\W/g, '')}`, '-f', file]
  // Its progress lines go to stderr: kept out of the bench's output unless it fails.
  const options = { env: { ...process.env, ...env }, encoding: 'utf8', stdio: 'pipe' } as const
  for (const args of [
    ['up', '--no-color', '--quiet-pull'],
    ['down', '--remove-orphans']
  ]) {
    const done = spawnSync('docker-compose', [...project, ...args], options)
    if (done.status !== 0)
      throw new Error(`docker-compose ${args[0]} exited ${done.status}: ${done.stderr}`)
  }
}
