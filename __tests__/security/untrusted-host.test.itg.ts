import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { discoverProcesses } from '../../src/app/discover-processes.js'
import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import { CLI } from '../helpers/processes.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

const REFUSED = 'refused in untrusted mode: '

/** A checkout with a `.git` holding what `actions/checkout` leaves, and a folder standing for `~/.ssh`. */
function checkout() {
  const ws = tempDir('ctr-ws-')
  const home = tempDir('ctr-home-')
  mkdirSync(path.join(ws, '.git/hooks'), { recursive: true })
  writeFileSync(
    path.join(ws, '.git/config'),
    '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic c2VjcmV0LXRva2Vu\n'
  )
  writeFileSync(path.join(ws, 'data.csv'), 'a,b\n1,2\n')
  writeFileSync(path.join(home, 'authorized_keys'), 'the owner key\n')
  return { ws, home }
}

describe('untrusted mode guards the host (issue 40, real engine)', () => {
  it("item 2: hides the checkout's .git from a bind of the workspace, read-only and empty", async () => {
    const { ws } = checkout()
    const { result, lines, runId } = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: ., target: /w, mode: rw}]}}
    stages:
      - name: s
        type: sh
        run: |
          cat /w/data.csv
          echo "entries: $(ls -A /w/.git | wc -l)"
          cat /w/.git/config 2>&1 || true
          touch /w/.git/config 2>&1 || echo "config: not written"
`,
      { dir: ws, untrusted: true }
    )
    expect(result.status).toBe('success')
    expect(lines.filter((l) => l.startsWith('[a] ') && !l.startsWith('[a] stage'))).toEqual([
      '[a] job started in ctr-fixtures/busybox:latest',
      '[a] a,b',
      '[a] 1,2',
      '[a] entries: 0',
      "[a] cat: can't open '/w/.git/config': No such file or directory",
      '[a] touch: /w/.git/config: Read-only file system',
      '[a] config: not written',
      expect.stringMatching(/^\[a\] job success \(/)
    ])
    expect(readFileSync(path.join(ws, '.git/config'), 'utf8')).toContain('extraheader')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it.each([
    [
      'a bind of .git itself',
      './.git',
      (ws: string) => `volumes: ${ws}/.git (at /s) is git metadata`
    ],
    [
      'a bind of a folder inside .git',
      './.git/hooks',
      (ws: string) => `volumes: ${ws}/.git/hooks (at /s) is git metadata`
    ]
  ])('item 2: refuses %s', async (_what, source, why) => {
    const { ws } = checkout()
    const { result, runId } = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: ${source}, target: /s}]}}
    stages: [{name: s, type: sh, run: 'echo RAN'}]
`,
      { dir: ws, untrusted: true }
    )
    expect(result.jobs[0].error).toBe(`${REFUSED}${why(ws)}`)
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('item 2: refuses a workspace whose .git is a file (a worktree): it cannot be covered', async () => {
    const ws = tempDir('ctr-ws-')
    writeFileSync(path.join(ws, '.git'), 'gitdir: /elsewhere/.git/worktrees/x\n')
    const { result } = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: ., target: /w}]}}
    stages: [{name: s, type: sh, run: 'echo RAN'}]
`,
      { dir: ws, untrusted: true }
    )
    expect(result.jobs[0].error).toBe(
      `${REFUSED}volumes: ${ws} (at /w) holds ${ws}/.git, which is not a folder, so it cannot be hidden`
    )
  })

  it.each([
    ['committed before the run', true],
    ['planted by a job of the run', false]
  ])(
    'item 1: writes no artifact through a link inside the workspace %s',
    async (_when, committed) => {
      const { ws, home } = checkout()
      mkdirSync(path.join(ws, 'ctr-artifacts'), { mode: 0o777 })
      if (committed) symlinkSync(home, path.join(ws, 'ctr-artifacts/b'))
      const { result, runId } = await runYaml(
        `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: ., target: /w, mode: rw}]}}
    stages: [{name: s, type: sh, run: 'mkdir /out && echo "fork key" > /out/authorized_keys${committed ? '' : ` && ln -s ${home} /w/ctr-artifacts/b`}'}]
  b:
    needs: [a]
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: s, type: sh, run: 'mkdir /out && echo "fork key" > /out/authorized_keys'}]
    artifacts: [/out/authorized_keys]
`,
        { dir: ws, untrusted: true, artifactsDir: path.join(ws, 'ctr-artifacts') }
      )
      expect(result.jobs[1]).toMatchObject({
        status: 'failure',
        error: `copying artifacts to ${ws}/ctr-artifacts/b failed: ${ws}/ctr-artifacts/b is a symbolic link inside the workspace`
      })
      expect(readdirSync(home)).toEqual(['authorized_keys'])
      expect(readFileSync(path.join(home, 'authorized_keys'), 'utf8')).toBe('the owner key\n')
      expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
    }
  )

  it("item 14: a stage's env secret is on no host process's command line", async () => {
    const secret = `argv-secret-${Date.now()}`
    const seen: string[] = []
    // Every process of the host, the containers' included, as `ps` would show them.
    const scan = setInterval(() => {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          if (argv.includes(secret)) seen.push(argv.replaceAll('\0', ' '))
        } catch {
          // ended meanwhile
        }
      }
    }, 50)
    try {
      const { result, lines } = await runYaml(
        `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: one, type: sh, run: 'sleep 1; [ "$TOKEN" = "$EXPECTED" ] && echo same', env: {TOKEN: "\${TOKEN}", EXPECTED: "\${TOKEN}"}}
      - {name: two, type: sh, run: 'sleep 1; echo "two: \${TOKEN-unset}"'}
`,
        { env: { TOKEN: secret } }
      )
      expect(result.status).toBe('success')
      expect(lines).toEqual(expect.arrayContaining(['[a] same', '[a] two: unset']))
    } finally {
      clearInterval(scan)
    }
    expect(seen).toEqual([])
  })

  it('item 16 (every mode): refuses a label that holds a secret, and creates nothing', async () => {
    const { result, runId } = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, labels: {team: data, build: "token \${API_TOKEN}"}}}
    stages: [{name: s, type: sh, run: 'echo RAN'}]
`,
      { env: { API_TOKEN: 'label-secret-value' }, keep: true }
    )
    expect(result.jobs[0]).toMatchObject({
      status: 'failure',
      error:
        "labels build: a label holds a secret's value, and labels are shown by every engine event and docker inspect; pass it in environment instead"
    })
    expect(
      await docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`ctr-pipeline.run-id=${runId}`] })
      })
    ).toEqual([])
    execFileSync('node', [CLI, 'cleanup', '--run-id', runId])
  })
})

describe("item 4: the runner's registry login is not an untrusted run's", () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry()
  }, 60_000)
  afterAll(async () => {
    await registry.stop()
  })

  it.each([
    ['trusted: pulls with the Docker config login', false, 'success'],
    ['untrusted: pulls anonymously, and the registry says no', true, 'failure']
  ])('%s', async (_what, untrusted, status) => {
    const config = tempDir('ctr-docker-config-')
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64')
    writeFileSync(
      path.join(config, 'config.json'),
      JSON.stringify({ auths: { [registry.host]: { auth } } })
    )
    const { result, runId } = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${registry.image}, pull: always}}
    stages: [{name: s, type: sh, run: 'echo RAN'}]
`,
      { env: { DOCKER_CONFIG: config }, untrusted, allowedVariables: [] }
    )
    expect(result.jobs[0].status).toBe(status)
    if (untrusted)
      expect(result.jobs[0].error).toMatch(
        new RegExp(
          `^pulling image '${registry.image.replaceAll('.', '\\.')}' from registry ${registry.host.replaceAll('.', '\\.')}: authentication failed with no credentials`
        )
      )
    await docker
      .getImage(registry.image)
      .remove()
      .catch(() => undefined)
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})

describe("item 11: validate describes an image's processes in a bounded, timed container", () => {
  const tag = 'ctr-test/hanging-process:1'
  beforeAll(async () => {
    const dir = tempDir()
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      `FROM ${BUSYBOX}\nLABEL "process.hang"="sleep 3600" "process.forks"="while true; do sleep 60 & done"\n`
    )
    const stream = await docker.buildImage({ context: dir, src: ['Dockerfile'] }, { t: tag })
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(null)))
    )
  }, 60_000)
  afterAll(async () => {
    await docker.getImage(tag).remove({ force: true })
  })

  it('kills a describe call that hangs or forks, says so, and leaves nothing', async () => {
    const backend = new DockerBackend(docker)
    const started = Date.now()
    const found = await discoverProcesses(
      { images: (ref) => backend.images(ref), backend },
      [tag],
      tempDir('ctr-describe-cache-'),
      2000
    )
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(found.map((p) => [p.name, p.broken])).toEqual([
      [
        // Stopped by its 64 processes before its time ran out.
        'forks',
        "'while true; do sleep 60 & done' with nothing on stdin exited with 2: sh: can't fork: Resource temporarily unavailable"
      ],
      ['hang', `'sleep 3600' with nothing on stdin did not answer within 2 s: killed`]
    ])
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })
})
