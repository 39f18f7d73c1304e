import { parse } from 'yaml'
import {
  jobPipelineYaml,
  literal,
  parseEnv,
  parseVolumes,
  type JobInputs
} from '../../src/action/job-inputs.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { render } from '../../src/pipeline/template.js'
import { expressionScope } from '../../src/pipeline/expression.js'

const base: JobInputs = {
  image: 'ctr-fixtures/busybox:latest',
  run: 'echo hi',
  shell: '',
  env: '',
  volumes: '',
  resources: '',
  mountWorkspace: false,
  workspace: '/repo'
}

describe('jobPipelineYaml', () => {
  it.each([
    ['the script as a bash stage', {}, { image: 'ctr-fixtures/busybox:latest' }, 'bash'],
    ['python', { shell: 'python' }, { image: 'ctr-fixtures/busybox:latest' }, 'py'],
    [
      'env, volumes and resources',
      { env: 'A=1\nB=two words', volumes: 'data:/data:ro', resources: 'memory: 64m' },
      {
        environment: { A: '1', B: 'two words' },
        volumes: [{ source: 'data', target: '/data', mode: 'ro' }],
        resources: { memory: '64m' }
      },
      'bash'
    ],
    [
      'the checkout mounted and the job started there',
      { mountWorkspace: true },
      {
        volumes: [{ source: '/repo', target: '/github/workspace' }],
        working_dir: '/github/workspace'
      },
      'bash'
    ]
  ])('%s', (_name, inputs, withKeys, stageType) => {
    const yaml = jobPipelineYaml({ ...base, ...inputs })
    const doc = parse(yaml) as {
      jobs: { job: { 'runs-on': { with: object }; stages: [{ type: string }] } }
    }
    expect(doc.jobs.job['runs-on'].with).toMatchObject(withKeys)
    expect(doc.jobs.job.stages[0].type).toBe(stageType)
    // What it writes is a valid pipeline.
    expect(parsePipeline(yaml, 'actions/job inputs', '/repo').jobs).toHaveLength(1)
  })

  it('runs the image’s own command when run is empty', () => {
    const doc = parse(jobPipelineYaml({ ...base, run: '' })) as { jobs: { job: object } }
    expect(doc.jobs.job).not.toHaveProperty('stages')
  })

  it.each([
    [{ image: ' ' }, "input 'image' is required"],
    [{ shell: 'zsh' }, "input 'shell' is 'zsh': expected bash, sh or python"],
    [{ resources: '- 1' }, "input 'resources' must be a YAML mapping"],
    [{ volumes: 'data' }, "input 'volumes': 'data' is not SOURCE:/TARGET"],
    [{ volumes: 'data:/d:rx' }, "input 'volumes': 'data:/d:rx'"],
    [{ env: 'no equals sign' }, "input 'env': 'no equals sign' is not KEY=VALUE"]
  ])('refuses %j', (inputs, message) => {
    expect(() => jobPipelineYaml({ ...base, ...inputs })).toThrow(message)
  })
})

describe('literal', () => {
  it.each(['echo ${HOME} {{ x }}', 'a }} b'])('leaves a script %j as written', (text) => {
    expect(render(literal(text, { variables: false }), expressionScope({}))).toBe(text)
  })

  it.each([
    'plain',
    'docker inspect --format "{{.Id}}" x',
    'echo ${HOME} $${x} {{ a }} }}',
    "{{ '{{' }}"
  ])('renders %j as itself', (text) => {
    expect(
      render(literal(text), expressionScope({}), { variables: true, env: { HOME: '/h' } })
    ).toBe(text)
  })
})

describe('parseEnv', () => {
  it.each([
    ['', {}],
    ['A=1\n\nB=x=y', { A: '1', B: 'x=y' }],
    ['A: 1\nB: text', { A: '1', B: 'text' }]
  ])('%j', (text, expected) => expect(parseEnv(text)).toEqual(expected))
})

describe('parseVolumes', () => {
  it.each([
    ['', []],
    [
      './a:/a\n\n/b:/b:rw',
      [
        { source: './a', target: '/a', mode: 'rw' },
        { source: '/b', target: '/b', mode: 'rw' }
      ]
    ],
    [' ./data:/app/data:ro ', [{ source: './data', target: '/app/data', mode: 'ro' }]]
  ])('%j', (text, expected) => expect(parseVolumes(text)).toEqual(expected))

  it.each(['./a', './a:b', ':/a', './a:/a:z', './a:/a:ro:x'])(
    'refuses %j naming the input',
    (line) =>
      expect(() => parseVolumes(line)).toThrow(
        `input 'volumes': '${line}' is not SOURCE:/TARGET or SOURCE:/TARGET:ro (or :rw), as docker run -v writes it (one per line)`
      )
  )
})
