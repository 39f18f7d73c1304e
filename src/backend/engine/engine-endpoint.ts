import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type Docker from 'dockerode'
import { EngineUnavailableError } from '../backend.js'

/** Where the engine is, and why there: what the first line of a run says. */
export interface EngineEndpoint {
  /** As DOCKER_HOST writes it: `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://me@host`. */
  host: string
  /** What chose it: `DOCKER_HOST`, `context NAME`, or `default`. */
  source: string
  /** dockerode's options: made here, so dockerode reads nothing of the environment. */
  options?: Docker.DockerOptions
}

const DEFAULT_SOCKET = '/var/run/docker.sock'

/**
 * The engine the docker CLI would talk to, in its order: DOCKER_HOST, then the context
 * DOCKER_CONTEXT names, then the config file's `currentContext`
 * (`$DOCKER_CONFIG/config.json`, by default `~/.docker/config.json`), with the context's
 * TLS files; the default socket otherwise. A context that does not exist is an
 * EngineUnavailableError saying where its name came from, as the CLI refuses it too.
 */
export function resolveEngine(
  env: Record<string, string | undefined>,
  home: string
): EngineEndpoint {
  const configDir = env.DOCKER_CONFIG || path.join(home, '.docker')
  if (env.DOCKER_HOST) {
    // As the docker CLI: TLS when DOCKER_TLS_VERIFY is set or the port is 2376, with the
    // certificates in DOCKER_CERT_PATH (else the config folder).
    const host = env.DOCKER_HOST
    const tls = Boolean(env.DOCKER_TLS_VERIFY) || /:2376$/.test(host)
    const certDir = env.DOCKER_CERT_PATH || configDir
    return {
      host,
      source: 'DOCKER_HOST',
      options: dockerOptions(host, tls ? certDir : undefined, env, tls)
    }
  }
  const named = contextName(env, configDir)
  if (!named || named.name === 'default') {
    // Docker Desktop's socket in the home folder, where it is, as dockerode looks.
    const user = path.join(home, '.docker', 'run', 'docker.sock')
    const socket = existsSync(user) ? user : DEFAULT_SOCKET
    return { host: `unix://${socket}`, source: 'default', options: { socketPath: socket } }
  }
  const id = createHash('sha256').update(named.name).digest('hex')
  const metaFile = path.join(configDir, 'contexts', 'meta', id, 'meta.json')
  let host: unknown
  try {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as {
      Endpoints?: { docker?: { Host?: unknown } }
    }
    host = meta.Endpoints?.docker?.Host
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new EngineUnavailableError(
      code === 'ENOENT'
        ? `docker context '${named.name}' (from ${named.from}) does not exist: docker context ls lists those there are`
        : `docker context '${named.name}' (from ${named.from}): cannot read ${metaFile}: ${(error as Error).message}`
    )
  }
  if (typeof host !== 'string' || host === '')
    throw new EngineUnavailableError(
      `docker context '${named.name}' (from ${named.from}) names no Docker endpoint in ${metaFile}`
    )
  const tlsDir = path.join(configDir, 'contexts', 'tls', id, 'docker')
  return { host, source: `context ${named.name}`, options: dockerOptions(host, tlsDir, env) }
}

/** The context's name and where it was given, if any was. */
function contextName(
  env: Record<string, string | undefined>,
  configDir: string
): { name: string; from: string } | undefined {
  if (env.DOCKER_CONTEXT) return { name: env.DOCKER_CONTEXT, from: 'DOCKER_CONTEXT' }
  const configFile = path.join(configDir, 'config.json')
  try {
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { currentContext?: unknown }
    if (typeof config.currentContext === 'string' && config.currentContext !== '')
      return { name: config.currentContext, from: configFile }
  } catch {
    // No config file, or one the CLI could not read either: the default engine.
  }
  return undefined
}

/**
 * dockerode's options for an engine's address, with the TLS files in `tlsDir` where it
 * has them (none: plain HTTP, unless the port is 2376).
 */
function dockerOptions(
  host: string,
  tlsDir: string | undefined,
  env: Record<string, string | undefined>,
  forceTls = false
): Docker.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) }
  if (host.startsWith('npipe://')) return { socketPath: host.slice('npipe://'.length) }
  const url = new URL(host)
  if (url.protocol === 'ssh:')
    return {
      protocol: 'ssh',
      host: url.hostname,
      port: url.port || 22,
      username: url.username,
      sshOptions: { agent: env.SSH_AUTH_SOCK }
    }
  const tls = (file: string) => {
    if (tlsDir === undefined) return undefined
    const full = path.join(tlsDir, file)
    return existsSync(full) ? readFileSync(full) : undefined
  }
  const [ca, cert, key] = [tls('ca.pem'), tls('cert.pem'), tls('key.pem')]
  const secure = forceTls || ca !== undefined || cert !== undefined || url.port === '2376'
  return {
    protocol: secure ? 'https' : 'http',
    host: url.hostname,
    port: url.port || (secure ? 2376 : 2375),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {})
  }
}
