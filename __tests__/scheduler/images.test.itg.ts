import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import Docker from 'dockerode'
import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import { type PullProgress } from '../../src/backend/engine/images.js'
import type { RegistryCredentials } from '../../src/plan/image-plan.js'
import {
  BUSYBOX,
  docker,
  leftovers,
  NOTHING_LEFT,
  PYTHON,
  runYaml,
  tempDir
} from '../helpers/engine.js'
import { CLI, Spawned } from '../helpers/processes.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'

let registry: TestRegistry

beforeAll(async () => {
  registry = await startRegistry()
}, 60_000)

afterAll(async () => {
  await registry?.stop()
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** Each test starts with the registry's image off the engine, so a run has to pull it. */
beforeEach(async () => {
  await docker
    .getImage(registry.image)
    .remove()
    .catch(() => undefined)
})

/** The real backend, counting the pulls its image client is asked for. */
class CountingClient extends DockerBackend {
  pulls: string[] = []

  constructor() {
    super(docker)
    const pull = this.imageClient.pullImage.bind(this.imageClient)
    this.imageClient.pullImage = async (
      ref: string,
      options: { platform?: string; auth?: RegistryCredentials },
      onProgress: (progress: PullProgress) => void
    ) => {
      this.pulls.push(ref)
      await pull(ref, options, onProgress)
    }
  }
}

describe('images from a registry', () => {
  it('build.push pushes the build under its image name, with auth, and hands on its digest', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BUSYBOX}\nRUN echo pushed > /built.txt\n`)
    const name = `${registry.host}/ctr-test/built:1`
    const env = { REG_USER: registry.username, REG_PASS: registry.password }
    const pipeline = (password: string) => `jobs:
  image:
    runs-on:
      with:
        image: ${name}
        build: {context: ., push: true}
        auth: {username: "\${REG_USER}", password: "${password}"}
    stages: [{name: s, type: sh, run: 'cat /built.txt'}]
  use:
    needs: [image]
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: s, type: sh, run: 'echo got {{ needs.image.outputs.image_digest }}'}]
`
    try {
      const { result, lines } = await runYaml(pipeline('${REG_PASS}'), { dir, env })
      const [image, use] = result.jobs
      expect(image.error).toBeUndefined()
      const digest = image.outputs.image_digest
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(image.pushed_image).toBe(`${name}@${digest}`)
      expect(lines).toContain(`push ${name} (as ${registry.username})`)
      expect(lines).toContain(`pushed ${name}@${digest}`)
      expect(lines).toContain(`[use] got ${digest}`)
      expect(use.status).toBe('success')
      // The registry holds it under that digest.
      const basic = Buffer.from(`${registry.username}:${registry.password}`).toString('base64')
      const manifest = await fetch(`http://${registry.host}/v2/ctr-test/built/manifests/1`, {
        headers: {
          Authorization: `Basic ${basic}`,
          Accept: 'application/vnd.docker.distribution.manifest.v2+json'
        }
      })
      expect(manifest.headers.get('docker-content-digest')).toBe(digest)

      const wrong = await runYaml(pipeline('${REG_USER}'), { dir, env })
      expect(wrong.result.jobs[0].status).toBe('failure')
      expect(wrong.result.jobs[0].error).toMatch(
        new RegExp(
          `^pushing ${name.replace(/[.]/g, '\\.')} to registry ${registry.host.replace(/[.]/g, '\\.')} failed: authentication failed as '${registry.username}' \\(check runs-on\\.with\\.auth, or docker login ${registry.host.replace(/[.]/g, '\\.')}\\): `
        )
      )
      expect(JSON.stringify(wrong)).not.toContain(registry.password)
    } finally {
      await docker
        .getImage(name)
        .remove()
        .catch(() => undefined)
    }
  })

  it('pulls a service image with the service auth', async () => {
    const env = { REG_USER: registry.username, REG_PASS: registry.password }
    const { result, lines } = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}}}
    services:
      svc:
        image: ${registry.image}
        auth: {username: "\${REG_USER}", password: "\${REG_PASS}"}
        command: [sleep, "30"]
    stages: [{name: hi, type: sh, run: 'echo ok'}]
`,
      { env }
    )
    expect(result.jobs[0].error).toBeUndefined()
    expect(lines).toContain(`pull ${registry.image} (as ${registry.username})`)
    expect(lines.join('\n')).not.toContain(registry.password)
  })

  it('pulls a missing image with auth from ${VAR}, compactly, once for every job that uses it', async () => {
    const client = new CountingClient()
    const env = { REG_USER: registry.username, REG_PASS: registry.password }
    const { result, lines } = await runYaml(
      `jobs:
  a:
    strategy: {matrix: {n: [1, 2, 3]}}
    runs-on:
      with:
        image: ${registry.image}
        auth: {username: "\${REG_USER}", password: "\${REG_PASS}"}
    stages: [{name: hi, type: sh, run: 'echo hello {{ matrix.n }}'}]
  b:
    runs-on:
      with:
        image: ${registry.image}
        auth: {username: "\${REG_USER}", password: "\${REG_PASS}"}
    stages: [{name: hi, type: sh, run: 'echo b'}]
`,
      { backend: client, env }
    )
    expect(result.status).toBe('success')
    expect(client.pulls).toEqual([registry.image])
    const progress = lines.filter((l) => l.startsWith(`pull ${registry.image}`))
    expect(progress[0]).toBe(`pull ${registry.image} (as ${registry.username})`)
    expect(progress).toContain(
      `pull ${registry.image}: Status: Downloaded newer image for ${registry.image}`
    )
    // One line per change of a layer's state: never the same state twice in a row.
    expect(new Set(progress).size).toBe(progress.length)
    expect(progress.length).toBeLessThan(20)
    expect(lines.join('\n')).not.toContain(registry.password)
  })

  it('takes credentials from the Docker config file (auths, as docker login writes it)', async () => {
    const config = tempDir('ctr-docker-config-')
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64')
    writeFileSync(
      path.join(config, 'config.json'),
      JSON.stringify({ auths: { [registry.host]: { auth } } })
    )
    const { result } = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${registry.image}}}
    stages: [{name: hi, type: sh, run: 'true'}]
`,
      { env: { DOCKER_CONFIG: config } }
    )
    expect(result.status).toBe('success')
  })

  it('asks a credential helper named in the Docker config file', async () => {
    const config = tempDir('ctr-docker-config-')
    const bin = path.join(config, 'bin')
    mkdirSync(bin)
    // The helper protocol: the registry on stdin, {Username, Secret} on stdout.
    const helper = path.join(bin, 'docker-credential-ctrtest')
    writeFileSync(
      helper,
      `#!/bin/sh\nread server\n[ "$server" = "${registry.host}" ] || exit 1\n` +
        `printf '{"ServerURL":"%s","Username":"${registry.username}","Secret":"${registry.password}"}' "$server"\n`
    )
    chmodSync(helper, 0o755)
    writeFileSync(
      path.join(config, 'config.json'),
      JSON.stringify({ credHelpers: { [registry.host]: 'ctrtest' } })
    )
    const { result } = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${registry.image}}}
    stages: [{name: hi, type: sh, run: 'true'}]
`,
      { env: { DOCKER_CONFIG: config, PATH: `${bin}:${process.env.PATH}` } }
    )
    expect(result.jobs[0].error).toBeUndefined()
    expect(result.status).toBe('success')
  })

  it('wrong credentials: exit 1, the registry named, authentication failed, the password nowhere', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'pipeline.yml')
    writeFileSync(
      file,
      `jobs:
  a:
    runs-on:
      with:
        image: ${registry.image}
        auth: {username: ${registry.username}, password: "\${REG_PASS}"}
    stages: [{name: hi, type: sh, run: 'true'}]
`
    )
    // A user name written in the file is shown; one from \${VAR} would be masked as a secret.
    const wrong = `${registry.password}-wrong`
    const run = new Spawned(CLI, ['run', file, '--result', path.join(dir, 'result.json')], {
      REG_PASS: wrong
    })
    const { code, stdout, stderr } = await run.exited
    expect(code).toBe(1)
    const output = stdout + stderr
    expect(output).toContain(
      `from registry ${registry.host}: authentication failed as '${registry.username}'`
    )
    expect(output).not.toContain(wrong)
    expect(output).not.toContain(registry.password)
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('pull: always pulls even an image the engine has; pull: never refuses one it lacks, before anything starts', async () => {
    const client = new CountingClient()
    const env = { REG_USER: registry.username, REG_PASS: registry.password }
    const auth = 'auth: {username: "${REG_USER}", password: "${REG_PASS}"}'
    const always = await runYaml(
      `jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, pull: never}}
    stages: [{name: hi, type: sh, run: 'true'}]
  b:
    runs-on: {with: {image: ${registry.image}, pull: always, ${auth}}}
    stages: [{name: hi, type: sh, run: 'true'}]
`,
      { backend: client, env }
    )
    expect(always.result.status).toBe('success')
    await runYaml(
      `jobs:
  b:
    runs-on: {with: {image: ${registry.image}, pull: always, ${auth}}}
    stages: [{name: hi, type: sh, run: 'true'}]
`,
      { backend: client, env }
    )
    expect(client.pulls).toEqual([registry.image, registry.image])

    await docker.getImage(registry.image).remove()
    const created: string[] = []
    class WatchingClient extends DockerBackend {
      override async createContainer(...args: Parameters<DockerBackend['createContainer']>) {
        created.push(args[0].name)
        return super.createContainer(...args)
      }
    }
    const never = await runYaml(
      `jobs:
  fine:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: hi, type: sh, run: 'true'}]
  missing:
    runs-on: {with: {image: ${registry.image}, pull: never}}
    stages: [{name: hi, type: sh, run: 'true'}]
`,
      { backend: new WatchingClient(docker) }
    )
    expect(never.result.status).toBe('failure')
    const [fine, missing] = never.result.jobs
    expect(missing.error).toBe(
      `image '${registry.image}' is not on the engine, and 'pull: never' forbids pulling it`
    )
    expect(fine).toMatchObject({ status: 'skipped', attempts: 0 })
    expect(created).toEqual([])
    expect(never.lines).toContain(`[missing] job failure: ${missing.error} (0.00 s)`)
  })

  it('leaves to the job what is not known before the run: values from needs, jobs with their own if:', async () => {
    const { result } = await runYaml(`jobs:
  size:
    runs-on: {with: {image: ${BUSYBOX}}}
    outputs: {mem: "{{ stages.s.outputs.mem }}"}
    stages: [{name: s, id: s, type: sh, run: 'echo mem=64m >> $CTR_OUTPUT'}]
  use:
    needs: [size]
    runs-on: {with: {image: ${BUSYBOX}, resources: {memory: "{{ needs.size.outputs.mem }}"}}}
    stages: [{name: limit, type: sh, run: 'test "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" = 67108864'}]
  deploy:
    if: "false"
    runs-on: {with: {image: ${registry.image}, pull: never}}
    stages: [{name: never, type: sh, run: 'true'}]
`)
    expect(result.jobs.map((j) => [j.job, j.status, j.error])).toEqual([
      ['size', 'success', undefined],
      ['use', 'success', undefined],
      ['deploy', 'skipped', 'skipped: its if: condition is false']
    ])
  })

  it('names a mount source that does not exist before anything starts', async () => {
    const { result } = await runYaml(`jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: ./no-such-folder, target: /in}]}}
    stages: [{name: hi, type: sh, run: 'true'}]
`)
    const [a] = result.jobs
    expect(a.status).toBe('failure')
    expect(a.error).toMatch(
      /^mount source \/.*\/no-such-folder does not exist on this machine \(mounted at \/in\)$/
    )
    expect(a.attempts).toBe(0)
  })
})

describe('images built from a Dockerfile', () => {
  const datamax = path.resolve(import.meta.dirname, '../../examples/datamax/pipeline.yml')

  it("runs seed 002's datamax: ENTRYPOINT python3, data mounted at run time, LOG_LEVEL overridden", async () => {
    const run = new Spawned(CLI, ['run', datamax])
    const { code, stdout } = await run.exited
    expect(code).toBe(0)
    // BuildKit, as this engine has it: its steps, one line each, and which builder ran.
    expect(stdout).toMatch(
      /^build ctr-pipeline-build\/minmax:\S+: \[1\/4\] FROM docker\.io\/ctr-fixtures\/python:3\.11$/m
    )
    expect(stdout).toMatch(/^build ctr-pipeline-build\/minmax:\S+: built with BuildKit$/m)
    const job = stdout.split('\n').filter((l) => l.startsWith('[minmax] ') && !/job /.test(l))
    // INFO shows: `environment` overrode the image's ENV LOG_LEVEL=WARNING. It is on
    // stderr, the table on stdout: the engine keeps each stream's order, not their mix.
    expect(job.filter((l) => l.includes('INFO'))).toEqual([
      '[minmax] INFO:root:Reading data from file system at data/example.json'
    ])
    expect(job.filter((l) => !l.includes('INFO'))).toEqual([
      '[minmax] min: min 1 max 6',
      '[minmax] max: min 2 max 9'
    ])
    // A second run reuses the build cache: the run's tag went, the layers stayed.
    const again = await new Spawned(CLI, ['run', datamax]).exited
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(
      /^build ctr-pipeline-build\/minmax:\S+: CACHED \[4\/4\] COPY \.\/scripts \.$/m
    )
    const tags = await docker.listImages({
      filters: JSON.stringify({ reference: ['ctr-pipeline-build/*'] })
    })
    expect(tags).toEqual([])
    // `image: datamax` beside `build:` named the build, as seed 002's docker build -t datamax.
    expect(stdout).toMatch(/^tag datamax$/m)
    const named = await docker.getImage('datamax').inspect()
    expect(named.Config.Entrypoint).toEqual(['python3'])
    await docker.getImage('datamax').remove()
  })

  it('falls back to the classic builder where the engine has no BuildKit, and says so', async () => {
    // An engine in front of ours that refuses BuildKit builds, as one without it does.
    const socket = path.join(tempDir('ctr-nobk-'), 'docker.sock')
    const server = http.createServer((req, res) => {
      // dockerode opens a BuildKit session first: an engine without BuildKit refuses both.
      if (
        req.url?.endsWith('/session') ||
        (req.url?.includes('/build') && req.url.includes('version=2'))
      ) {
        req.resume()
        res.writeHead(400, { 'Content-Type': 'application/json' })
        return res.end('{"message":"buildkit not supported by daemon"}')
      }
      const upstream = http.request(
        {
          socketPath: '/var/run/docker.sock',
          path: req.url,
          method: req.method,
          headers: req.headers
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        }
      )
      req.pipe(upstream)
    })
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    try {
      const dir = tempDir()
      writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BUSYBOX}\nRUN echo classic > /how\n`)
      const ref = 'ctr-pipeline-build/fallback:test-1'
      const lines: string[] = []
      const events = { info: (l: string) => lines.push(l), warning: (l: string) => lines.push(l) }
      const backend = new DockerBackend(new Docker({ socketPath: socket }))
      await backend.prepareImage(
        { kind: 'build', ref, context: dir, dockerfile: 'Dockerfile', args: {}, pullBase: false },
        { events, env: {} }
      )
      const history = await docker.getImage(ref).history()
      await docker.getImage(ref).remove()
      expect(history.map((h: { CreatedBy: string }) => h.CreatedBy)).toContain(
        '/bin/sh -c echo classic > /how'
      )
      expect(lines.filter((l) => l.includes('built with'))).toEqual([
        `build ${ref}: built with the classic builder (no BuildKit: buildkit not supported by daemon)`
      ])
      expect(lines).toContain(`build ${ref}: Step 2/2 : RUN echo classic > /how`)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('honours .dockerignore, build args and target, and says why a build failed', async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'app'))
    writeFileSync(path.join(dir, 'app', 'kept.txt'), 'kept\n')
    writeFileSync(path.join(dir, 'app', 'secret.env'), 'TOKEN=x\n')
    mkdirSync(path.join(dir, 'app', 'logs'))
    writeFileSync(path.join(dir, 'app', 'logs', 'a.log'), 'log\n')
    writeFileSync(path.join(dir, 'app', 'logs', 'keep.log'), 'keep\n')
    writeFileSync(path.join(dir, 'app', '.dockerignore'), '*.env\nlogs\n!logs/keep.log\n')
    writeFileSync(
      path.join(dir, 'app', 'Dockerfile'),
      `FROM ${BUSYBOX} AS base
ARG GREETING=none
COPY . /ctx
RUN echo "$GREETING" > /greeting
FROM base AS broken
RUN echo "this step fails" && exit 3
`
    )
    const { result, lines } = await runYaml(
      `jobs:
  show:
    runs-on:
      with:
        build: {context: app, args: {GREETING: "hi {{ params.who }}"}, target: base}
    stages: [{name: ls, type: sh, run: 'cd /ctx && find . -type f | sort && cat /greeting'}]
params: {who: {type: str, default: there}}
`,
      { dir }
    )
    expect(result.status).toBe('success')
    const output = lines.filter((l) => l.startsWith('[show] ') && !/ (job|stage) /.test(l))
    expect(output).toEqual([
      '[show] ./.dockerignore',
      '[show] ./Dockerfile',
      '[show] ./kept.txt',
      '[show] ./logs/keep.log',
      '[show] hi there'
    ])

    const broken = await runYaml(
      `jobs:
  show:
    runs-on: {with: {build: {context: app, target: broken}}}
    stages: [{name: ls, type: sh, run: 'true'}]
`,
      { dir }
    )
    const [job] = broken.result.jobs
    expect(job.status).toBe('failure')
    expect(job.error).toMatch(
      /^building \/.*\/app failed: executor failed running \[\/bin\/sh -c echo "this step fails" && exit 3\]: exit code: 3\n/
    )
    expect(job.error).toContain('this step fails')
  })

  it('tags a build with image when both are given, as Compose does, and keeps that name after the run', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BUSYBOX}\nRUN echo built > /built\n`)
    const name = `ctr-test-named-${Date.now()}`
    try {
      const { result, lines } = await runYaml(
        `jobs:
  b:
    runs-on: {with: {image: '${name}:1.0', build: .}}
    stages: [{name: s, type: sh, run: 'cat /built'}]
  untagged:
    runs-on: {with: {image: '${name}', build: .}}
    stages: [{name: s, type: sh, run: 'cat /built'}]
`,
        { dir }
      )
      expect(result.jobs.map((j) => j.status)).toEqual(['success', 'success'])
      // Both jobs build at once: the order of their lines is the engine's.
      expect(
        lines
          .filter((l) => /^tag /.test(l.trim()))
          .map((l) => l.trim())
          .sort()
      ).toEqual([`tag ${name}`, `tag ${name}:1.0`])
      // The names stay, on the image the run built; the run's own tags are gone.
      const tags = (await docker.listImages({ filters: JSON.stringify({ reference: [name] }) }))
        .flatMap((i) => i.RepoTags ?? [])
        .sort()
      expect(tags).toEqual([`${name}:1.0`, `${name}:latest`])
    } finally {
      for (const tag of ['1.0', 'latest'])
        await docker
          .getImage(`${name}:${tag}`)
          .remove()
          .catch(() => undefined)
    }
  })

  it('uses a python fixture as a base through a build arg', async () => {
    const dir = tempDir()
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      'ARG BASE\nFROM ${BASE}\nRUN python3 -c "print(1)" > /one\n'
    )
    const { result } = await runYaml(
      `jobs:
  py:
    runs-on: {with: {build: {context: ., args: {BASE: ${PYTHON}}}}}
    stages: [{name: one, type: sh, run: 'test "$(cat /one)" = 1'}]
`,
      { dir }
    )
    expect(result.status).toBe('success')
  })
})
