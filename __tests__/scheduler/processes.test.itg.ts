import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import type { RunResult } from '../../src/scheduler/run-result.js'
import { CLI, runNode } from '../helpers/processes.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** A busybox image whose labels name processes written in sh, built for one test. */
async function processImage(tag: string, labels: Record<string, string>): Promise<void> {
  const dir = tempDir()
  const label = Object.entries(labels)
    .map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v).replace(/\$/g, '\\$')}`)
    .join(' ')
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BUSYBOX}\nLABEL ${label}\n`)
  const { exitCode } = await runBuild(dir, tag)
  if (exitCode !== 0) throw new Error(`could not build ${tag}`)
}

async function runBuild(dir: string, tag: string) {
  const stream = await docker.buildImage({ context: dir, src: ['Dockerfile'] }, { t: tag })
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(null)))
  )
  return { exitCode: 0 }
}

const DESCRIBE = `'{"description": "echo", "inputs": {"n": 1}, "outputs": {"n": 1}}'`
/** A process in sh: describes itself on empty stdin, else prints `answer`. */
const process = (answer: string) =>
  `input=$(cat); if [ -z "$input" ]; then echo ${DESCRIBE}; else echo '${answer}'; fi`

describe('type: process stages (seed 003)', () => {
  it("runs seed 003's arithmetic graph: typed values flow between stages and jobs", async () => {
    const result = path.join(tempDir(), 'result.json')
    const run = await runNode(CLI, ['run', 'examples/processes/pipeline.yml', '--result', result])
    expect(run.code).toBe(0)
    const jobs = (JSON.parse(readFileSync(result, 'utf8')) as RunResult).jobs
    const c = 17.7 / 15.2
    expect(jobs.map((j) => [j.id, j.outputs])).toEqual([
      ['graph', { a: '17.7', b: '15.2', c: String(c) }],
      ['scale', { z: String(c * 10 - 1) }]
    ])
  })
})

describe('processes of an image built for the test', () => {
  const tag = 'ctr-test/processes:1'
  const broken = 'ctr-test/processes-broken:1'
  beforeAll(async () => {
    await processImage(tag, {
      'process.echo_n': process('{"n": 42}'),
      'process.not_json': process('Traceback: boom'),
      'process.wrong_type': process('{"n": "42"}')
    })
    await processImage(broken, { 'process.mute': 'true', 'process.fails': 'exit 3' })
  }, 60_000)
  afterAll(async () => {
    for (const ref of [tag, broken])
      await docker
        .getImage(ref)
        .remove()
        .catch(() => undefined)
  })

  const stage = (name: string, inputs = '{n: 5}') =>
    `jobs:\n  p:\n    runs-on: {with: {image: ${tag}}}\n    stages:\n      - {id: s, type: process, process: ${name}, inputs: ${inputs}}\n`

  it.each([
    ['echo_n', '{n: 5}', undefined],
    ['not_json', '{n: 5}', "stage 's' failed: its output is not JSON: 'Traceback: boom'"],
    [
      'wrong_type',
      '{n: 5}',
      `stage 's' failed: its output 'n' is a string ("42"), not a number: '{"n": "42"}'`
    ],
    [
      'echo_n',
      '{n: five}',
      `stage 's' failed: input 'n' is a string ("five"); the process takes a number`
    ],
    [
      'echo',
      '{n: 5}',
      `stage 's' failed: image ${tag} has no process 'echo': it has echo_n, not_json, wrong_type`
    ]
  ])('process %s with inputs %s', async (name, inputs, error) => {
    const { result } = await runYaml(stage(name, inputs))
    const [job] = result.jobs
    expect(job.error).toBe(error)
    if (!error) expect(job.stages[0].outputs).toEqual({ n: '42' })
  })

  it('validate looks process names and input keys up on the engine, and says what it could not', async () => {
    const file = path.join(tempDir(), 'p.yml')
    writeFileSync(
      file,
      `${stage('echo')}  q:\n    runs-on: {with: {image: ${tag}}}\n    stages:\n      - {id: t, type: process, process: echo_n, inputs: {m: 1}}\n`
    )
    const env = { XDG_CACHE_HOME: tempDir() }
    const bad = await runNode(CLI, ['validate', file], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual([
      `${file}:5:9: jobs.p.stages[0]: image ${tag} has no process 'echo'; it has echo_n, not_json, wrong_type`,
      `${file}:9:9: jobs.q.stages[0]: process 'echo_n' has no input 'm' (did you mean 'n'?); its inputs: n`
    ])
    const elsewhere = file.replace('p.yml', 'q.yml')
    writeFileSync(elsewhere, stage('echo').replace(tag, 'ctr-test/not-here:1'))
    const unknown = await runNode(CLI, ['validate', elsewhere], env)
    expect(unknown.code).toBe(0)
    expect(unknown.stdout).toBe(
      `${elsewhere}: note: jobs.p: image ctr-test/not-here:1 is not on the engine: its processes are checked when it runs\n${elsewhere}: valid\n`
    )
    const offline = await runNode(CLI, ['validate', elsewhere], {
      ...env,
      DOCKER_HOST: 'unix:///nonexistent.sock'
    })
    expect(offline.code).toBe(0)
    expect(offline.stdout).toMatch(
      /^.*q\.yml: note: process stages not checked: cannot reach the Docker engine at unix:\/\/\/nonexistent\.sock \(ENOENT\)/
    )
  })

  it('processes lists them, described, and the broken ones with why', async () => {
    const env = { XDG_CACHE_HOME: tempDir() }
    const { code, stdout } = await runNode(
      CLI,
      ['processes', '--image', tag, '--image', broken, '--json'],
      env
    )
    expect(code).toBe(0)
    const found = (JSON.parse(stdout) as Array<Record<string, unknown>>).map((p) => [
      p.name,
      p.image,
      p.broken ?? p.description
    ])
    expect(found).toEqual([
      ['echo_n', tag, 'echo'],
      ['fails', broken, "'exit 3' with nothing on stdin exited with 3"],
      ['mute', broken, 'its description is not JSON: nothing came back'],
      ['not_json', tag, 'echo'],
      ['wrong_type', tag, 'echo']
    ])
  })
})
