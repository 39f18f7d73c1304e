import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parsePipeline } from '../../src/spec/load-pipeline.js'
import { formatProblem, SpecError } from '../../src/spec/spec-error.js'

const fixtures = path.join(import.meta.dirname, '..', 'fixtures')

function problemsOf(text: string): string[] {
  try {
    parsePipeline(text, 'p.yml', '/repo')
  } catch (error) {
    if (error instanceof SpecError) return error.problems.map(formatProblem)
    throw error
  }
  return []
}

const job = (body: string) => `jobs:\n  a:\n${body}`
const withImage = '    runs-on:\n      with:\n        image: busybox\n'

describe('parsePipeline', () => {
  it("accepts seed 001's Basic Configuration verbatim", () => {
    const text = readFileSync(path.join(fixtures, 'seed-basic.yml'), 'utf8')
    const pipeline = parsePipeline(text, 'seed-basic.yml', '/repo')
    expect(pipeline.name).toBe('container-example')
    expect(pipeline.params.data_path).toEqual({
      type: 'str',
      default: '/host/data',
      required: false
    })
    const [processing] = pipeline.jobs
    expect(processing.id).toBe('data-processing')
    expect(processing.container.resources).toEqual({ memory: '2g', cpu: '2' })
    expect(processing.container.volumes).toEqual([
      { source: '/host/data', target: '/container/data', mode: 'rw' }
    ])
    expect(processing.stages?.map((s) => [s.id, s.type])).toEqual([
      ['start', 'empty'],
      ['process-data', 'py'],
      ['complete', 'empty']
    ])
  })

  it.each([
    ['a YAML syntax error', 'jobs:\n  a: [1, 2\n', /^p\.yml:\d+:\d+: YAML syntax error/],
    [
      'a misspelt key, with a suggestion',
      job(`${withImage}        enviroment: {A: b}\n`),
      /^p\.yml:6:9: jobs\.a\.runs-on\.with: unknown key 'enviroment' \(did you mean 'environment'\?\)$/
    ],
    ['no jobs', 'name: x\n', /^p\.yml:1:1: pipeline has no 'jobs:'$/],
    [
      'an image that is not a string',
      job('    runs-on:\n      with:\n        image: [a]\n'),
      /^p\.yml:5:16: .*image must be a string$/
    ],
    ['a job without runs-on', job('    stages: []\n'), /^p\.yml:3:5: jobs\.a has no 'runs-on:'$/],
    [
      'a memory size that is not one',
      job(`${withImage}        resources: {memory: 2 gigs}\n`),
      /^p\.yml:6:29: .*'2 gigs' is not a memory size/
    ],
    [
      'a CPU count that is not one',
      job(`${withImage}        resources: {cpu: lots}\n`),
      /^p\.yml:6:26: .*'lots' is not a CPU count/
    ],
    [
      'an unknown stage type',
      job(`${withImage}    stages:\n      - {name: x, type: perl, run: x}\n`),
      /^p\.yml:7:25: .*type must be one of empty, bash, sh, py, cmd; got 'perl'$/
    ],
    [
      'a bash stage without run',
      job(`${withImage}    stages:\n      - {name: x, type: bash}\n`),
      /^p\.yml:7:9: .*a 'bash' stage needs 'run:'$/
    ],
    [
      'a relative mount target',
      job(`${withImage}        volumes: [{source: ., target: data}]\n`),
      /^p\.yml:6:39: .*target must be an absolute path/
    ],
    [
      'needs naming a missing job',
      job(`${withImage}    needs: [nope]\n`),
      /^p\.yml:2:3: jobs\.a\.needs names 'nope', which is not a job in this file$/
    ],
    [
      'a cycle, shown whole',
      `jobs:\n  a:\n    needs: [c]\n${withImage}  b:\n    needs: [a]\n${withImage}  c:\n    needs: [b]\n${withImage}`,
      /^p\.yml:2:3: jobs form a cycle through 'needs': a -> c -> b -> a$/
    ],
    [
      'a job id that is not plain',
      `jobs:\n  ok: {runs-on: {with: {image: x}}}\n  a/../b:\n${withImage}`,
      /^p\.yml:3:3: job id 'a\/\.\.\/b' must start with a letter/
    ],
    [
      'a duplicate stage id',
      job(
        `${withImage}    stages:\n      - {name: x, type: empty}\n      - {name: x, type: empty}\n`
      ),
      /^p\.yml:8:9: .*already has the id 'x'$/
    ]
  ])('refuses %s at its position', (_what, text, expected) => {
    const problems = problemsOf(text)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(expected)
  })

  it('reports every problem at once', () => {
    const text = job(`    runs-on:\n      with:\n        imag: x\n        user: [1]\n`)
    expect(problemsOf(text)).toEqual([
      "p.yml:5:9: jobs.a.runs-on.with: unknown key 'imag' (did you mean 'image'?)",
      'p.yml:6:15: jobs.a.runs-on.with.user must be a string, number or boolean',
      "p.yml:4:7: jobs.a.runs-on.with has no 'image:'"
    ])
  })

  it('reads scalars as text where Docker wants text', () => {
    const text = job(`${withImage}        user: 1000\n        environment: {DEBUG: true, N: 3}\n`)
    const [a] = parsePipeline(text, 'p.yml', '/repo').jobs
    expect(a.container.user).toBe('1000')
    expect(a.container.environment).toEqual({ DEBUG: 'true', N: '3' })
  })
})
