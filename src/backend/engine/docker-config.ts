import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { DOCKER_HUB, type RegistryCredentials } from '../../plan/image-plan.js'

/** The parts of `~/.docker/config.json` that hold registry credentials. */
interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>
  credHelpers?: Record<string, string>
  credsStore?: string
}

/**
 * Credentials for a registry from the user's Docker config file, as `docker login` (and
 * `docker/login-action`) left them: `$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`. A credential helper (`credHelpers`, `credsStore`) is asked
 * through its `get` command. Undefined when the file has nothing for the registry.
 */
export async function credentialsFromDockerConfig(
  registry: string,
  env: Record<string, string | undefined>
): Promise<RegistryCredentials | undefined> {
  const dir = env.DOCKER_CONFIG ?? path.join(homedir(), '.docker')
  let config: DockerConfigFile
  try {
    config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as DockerConfigFile
  } catch {
    return undefined
  }
  const helper = config.credHelpers?.[registry] ?? config.credsStore
  if (helper) {
    const fromHelper = await askHelper(helper, registry, env)
    if (fromHelper) return fromHelper
  }
  // `docker login` writes hosts bare; older files and Docker Hub's key carry a scheme.
  const keys =
    registry === DOCKER_HUB
      ? [DOCKER_HUB, 'docker.io']
      : [registry, `https://${registry}`, `http://${registry}`]
  for (const key of keys) {
    const entry = config.auths?.[key]
    if (!entry) continue
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon > 0) {
        return {
          username: decoded.slice(0, colon),
          password: decoded.slice(colon + 1),
          serveraddress: registry
        }
      }
    }
    if (entry.username && entry.password) {
      return { username: entry.username, password: entry.password, serveraddress: registry }
    }
  }
  return undefined
}

/**
 * Asks `docker-credential-NAME get` for a registry's credentials (the helper protocol),
 * found on the run's PATH.
 */
function askHelper(
  name: string,
  registry: string,
  env: Record<string, string | undefined>
): Promise<RegistryCredentials | undefined> {
  return new Promise((resolve) => {
    const child = spawn(`docker-credential-${name}`, ['get'], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    // A missing helper or one without an entry for the registry: no credentials from it.
    child.on('error', () => resolve(undefined))
    child.on('close', (code) => {
      if (code !== 0) return resolve(undefined)
      try {
        const { Username, Secret } = JSON.parse(out) as { Username?: string; Secret?: string }
        resolve(
          Username && Secret
            ? { username: Username, password: Secret, serveraddress: registry }
            : undefined
        )
      } catch {
        resolve(undefined)
      }
    })
    child.stdin.end(registry)
  })
}
