import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, PYTHON, tempDir } from '../helpers/engine.js'

const root = path.resolve(import.meta.dirname, '../..')

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/**
 * Runs the bundled CLI as a workflow job's `container:` runs the action: in a container
 * on the same engine, with the engine's socket, and the checkout at /__w/repo (a host
 * folder the engine knows by another path). Node is the host's, on the Python fixture.
 */
async function runInContainer(repo: string, args: string[]) {
  const container = await docker.createContainer({
    Image: PYTHON,
    Entrypoint: ['/usr/local/bin/node', '/opt/ctr/cli/index.js', ...args],
    WorkingDir: '/__w/repo',
    Labels: { 'ctr-pipeline.test': 'in-container' },
    HostConfig: {
      Mounts: [
        {
          Type: 'bind',
          Source: realpathSync(process.execPath),
          Target: '/usr/local/bin/node',
          ReadOnly: true
        },
        { Type: 'bind', Source: path.join(root, 'dist'), Target: '/opt/ctr', ReadOnly: true },
        {
          Type: 'bind',
          Source: '/var/run/docker.sock',
          Target: '/var/run/docker.sock',
          ReadOnly: false
        },
        { Type: 'bind', Source: repo, Target: '/__w/repo', ReadOnly: false }
      ]
    }
  })
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true })
    let output = ''
    const sink = new PassThrough().on('data', (chunk: Buffer) => (output += chunk.toString()))
    docker.modem.demuxStream(stream, sink, sink)
    const collected = new Promise((resolve) => stream.on('end', resolve))
    await container.start()
    const { StatusCode } = (await container.wait()) as { StatusCode: number }
    await collected
    return { code: StatusCode, output }
  } finally {
    await container.remove({ force: true })
  }
}

describe('the CLI inside a container on the same engine (a workflow job with container:)', () => {
  it('mounts relative volumes and copies artifacts as on the host: paths go through its own mounts', async () => {
    const repo = tempDir()
    mkdirSync(path.join(repo, 'data'))
    writeFileSync(path.join(repo, 'data', 'in.txt'), 'from the checkout\n')
    writeFileSync(
      path.join(repo, 'pipeline.yml'),
      `jobs:
  read:
    runs-on: {with: {image: ${BUSYBOX}, working_dir: /work, volumes: ['./data:/data:ro']}}
    stages: [{name: s, type: sh, run: 'cat /data/in.txt; cp /data/in.txt copy.txt'}]
    artifacts: [copy.txt]
`
    )
    const { code, output } = await runInContainer(repo, [
      'run',
      'pipeline.yml',
      '--artifacts-dir',
      'out'
    ])
    expect(output).toContain('[read] from the checkout\n')
    expect(code).toBe(0)
    expect(readFileSync(path.join(repo, 'out', 'read', 'copy.txt'), 'utf8')).toBe(
      'from the checkout\n'
    )
  })

  it('refuses a bind source that is only inside its container, naming it and its mounts', async () => {
    const repo = tempDir()
    writeFileSync(
      path.join(repo, 'pipeline.yml'),
      `jobs:
  read:
    runs-on: {with: {image: ${BUSYBOX}, volumes: ['/usr/lib:/x:ro']}}
    stages: [{name: s, type: sh, run: 'ls /x'}]
`
    )
    const { code, output } = await runInContainer(repo, ['run', 'pipeline.yml'])
    expect(code).toBe(1)
    expect(output).toMatch(
      /\[read\] job failure: mount source \/usr\/lib is inside this process's container \([0-9a-f]{12}\), in none of its mounts/
    )
  })
})
