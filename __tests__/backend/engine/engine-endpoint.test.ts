import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { resolveEngine } from '../../../src/backend/engine/engine-endpoint.js'

/** A home folder with a Docker config and contexts, as `docker context create` leaves them. */
function home(config: object | undefined, contexts: Record<string, object | undefined> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctr-home-'))
  const docker = path.join(dir, '.docker')
  mkdirSync(docker)
  if (config) writeFileSync(path.join(docker, 'config.json'), JSON.stringify(config))
  for (const [name, endpoint] of Object.entries(contexts)) {
    const id = createHash('sha256').update(name).digest('hex')
    mkdirSync(path.join(docker, 'contexts', 'meta', id), { recursive: true })
    writeFileSync(
      path.join(docker, 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify({ Name: name, Metadata: {}, Endpoints: endpoint ? { docker: endpoint } : {} })
    )
  }
  return dir
}

describe('resolveEngine: the engine the docker CLI would use', () => {
  const contexts = {
    colima: { Host: 'unix:///home/me/.colima/default/docker.sock', SkipTLSVerify: false },
    remote: { Host: 'tcp://build.example:2375' },
    ssh: { Host: 'ssh://me@build.example' }
  }
  it.each<[string, Record<string, string>, object | undefined, [string, string, object?]]>([
    [
      'DOCKER_HOST first',
      { DOCKER_HOST: 'tcp://h:2375', DOCKER_CONTEXT: 'colima' },
      { currentContext: 'colima' },
      ['tcp://h:2375', 'DOCKER_HOST', { protocol: 'http', host: 'h', port: '2375' }]
    ],
    [
      'DOCKER_HOST as a socket',
      { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' },
      undefined,
      [
        'unix:///run/user/1000/docker.sock',
        'DOCKER_HOST',
        { socketPath: '/run/user/1000/docker.sock' }
      ]
    ],
    [
      'DOCKER_HOST with DOCKER_TLS_VERIFY: https, certificates from DOCKER_CERT_PATH (none there)',
      { DOCKER_HOST: 'tcp://h:2377', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' },
      undefined,
      ['tcp://h:2377', 'DOCKER_HOST', { protocol: 'https', host: 'h', port: '2377' }]
    ],
    [
      'DOCKER_HOST over ssh',
      { DOCKER_HOST: 'ssh://me@h', SSH_AUTH_SOCK: '/agent' },
      undefined,
      [
        'ssh://me@h',
        'DOCKER_HOST',
        { protocol: 'ssh', host: 'h', port: 22, username: 'me', sshOptions: { agent: '/agent' } }
      ]
    ],
    [
      'then DOCKER_CONTEXT',
      { DOCKER_CONTEXT: 'remote' },
      { currentContext: 'colima' },
      [
        'tcp://build.example:2375',
        'context remote',
        { protocol: 'http', host: 'build.example', port: '2375' }
      ]
    ],
    [
      "then the config's currentContext",
      {},
      { currentContext: 'colima' },
      [
        'unix:///home/me/.colima/default/docker.sock',
        'context colima',
        { socketPath: '/home/me/.colima/default/docker.sock' }
      ]
    ],
    [
      'an ssh context',
      { DOCKER_CONTEXT: 'ssh', SSH_AUTH_SOCK: '/agent' },
      undefined,
      [
        'ssh://me@build.example',
        'context ssh',
        {
          protocol: 'ssh',
          host: 'build.example',
          port: 22,
          username: 'me',
          sshOptions: { agent: '/agent' }
        }
      ]
    ],
    [
      'the default context',
      { DOCKER_CONTEXT: 'default' },
      { currentContext: 'colima' },
      ['unix:///var/run/docker.sock', 'default', { socketPath: '/var/run/docker.sock' }]
    ],
    [
      'no config at all',
      {},
      undefined,
      ['unix:///var/run/docker.sock', 'default', { socketPath: '/var/run/docker.sock' }]
    ]
  ])('%s', (_, env, config, [host, source, options]) => {
    const endpoint = resolveEngine(env, home(config, contexts))
    expect([endpoint.host, endpoint.source]).toEqual([host, source])
    expect(endpoint.options).toEqual(options)
  })

  it('reads the config folder from DOCKER_CONFIG', () => {
    const dir = home({ currentContext: 'remote' }, contexts)
    const endpoint = resolveEngine({ DOCKER_CONFIG: path.join(dir, '.docker') }, '/nowhere')
    expect(endpoint.source).toBe('context remote')
  })

  it("speaks TLS with the context's certificates", () => {
    const dir = home(undefined, { secure: { Host: 'tcp://build.example:2376' } })
    const id = createHash('sha256').update('secure').digest('hex')
    const tls = path.join(dir, '.docker', 'contexts', 'tls', id, 'docker')
    mkdirSync(tls, { recursive: true })
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(tls, file), file)
    expect(resolveEngine({ DOCKER_CONTEXT: 'secure' }, dir).options).toEqual({
      protocol: 'https',
      host: 'build.example',
      port: '2376',
      ca: Buffer.from('ca.pem'),
      cert: Buffer.from('cert.pem'),
      key: Buffer.from('key.pem')
    })
  })

  it.each([
    [
      { DOCKER_CONTEXT: 'gone' },
      {},
      "docker context 'gone' (from DOCKER_CONTEXT) does not exist: docker context ls lists those there are"
    ],
    [
      {},
      { currentContext: 'gone' },
      "docker context 'gone' (from HOME/.docker/config.json) does not exist: docker context ls lists those there are"
    ],
    [
      { DOCKER_CONTEXT: 'empty' },
      {},
      "docker context 'empty' (from DOCKER_CONTEXT) names no Docker endpoint in HOME/.docker/contexts/meta/ID/meta.json"
    ]
  ])('refuses %j with config %j, saying where the name came from', (env, config, message) => {
    const dir = home(config, { empty: undefined })
    const id = createHash('sha256').update('empty').digest('hex')
    expect(() => resolveEngine(env, dir)).toThrow(
      message.replace('HOME', dir).replace('HOME', dir).replace('ID', id)
    )
  })
})
