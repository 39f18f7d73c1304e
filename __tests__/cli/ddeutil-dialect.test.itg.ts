import {
  BUSYBOX,
  docker,
  leftovers,
  NOTHING_LEFT,
  pipelineFile as writePipeline,
  PYTHON
} from '../helpers/engine.js'
import { CLI, runNode } from '../helpers/processes.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

const pipelineFile = (yaml: string) => writePipeline(yaml, 'workflows.yml')

/** Two workflows in ddeutil-workflow's keyed layout, written as its users write them. */
const KEYED = `other:
  type: Workflow
  jobs:
    x:
      runs-on: {type: container, with: {image: ${BUSYBOX}}}
      stages: [{name: s, echo: other}]

greet:
  type: Workflow
  on:
    schedule: [{cronjob: '0 9 * * mon', timezone: Asia/Bangkok}]
  params:
    name: str
  jobs:
    hello:
      runs-on: {type: container, with: {image: ${PYTHON}}}
      stages:
        - name: Echo
          echo: "hello \${{ params.name }}"
        - name: Bash
          env: {PASSING: Bar}
          bash: |
            echo "bash hello \${{ params.name }}";
            VAR='Foo';
            echo "Variable $$VAR";
            echo "ENV $$PASSING";
            echo "from the run: \${CTR_TEST_GREETING}, unset: \${CTR_TEST_UNSET}"
        - name: Python
          run: |
            x = '\${{ params.name | upper }}'
            print(f'Hello {x}')
`

/** The lines a job printed, without the prefix. */
function printed(stdout: string, job: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`[${job}] `))
    .map((line) => line.slice(job.length + 3))
}

describe("ddeutil-workflow's dialect, run on the engine", () => {
  it('prints what ddeutil prints: ${{ }} in echo, bash and py stages, $$ and ${VAR} in scripts', async () => {
    const { code, stdout } = await runNode(
      CLI,
      ['run', pipelineFile(KEYED), '--workflow', 'greet', '--param', 'name=world'],
      { CTR_TEST_GREETING: 'hi there' }
    )
    expect(code).toBe(0)
    expect(stdout).toContain(
      'on: schedule 0 9 * * 1 (Asia/Bangkok): not read by run, which starts the pipeline now; export it (argo, airflow, github) for a scheduler to start it'
    )
    const lines = printed(stdout, 'hello')
    expect(lines.filter((l) => !/^(job|stage) |^\$ |warning/.test(l))).toEqual([
      'hello world',
      'bash hello world',
      'Variable Foo',
      'ENV Bar',
      'from the run: ***, unset: null',
      'Hello WORLD'
    ])
  })

  it("runs a py stage by ddeutil's rules (vars as globals, top-level data as outputs), and retries", async () => {
    const file = pipelineFile(`type: Workflow
params: {name: {type: str, default: world}}
jobs:
  py:
    runs-on: {type: container, with: {image: ${PYTHON}}}
    stages:
      - name: Set
        id: set
        vars: {x: '\${{ params.name }}', n: 2}
        run: |
          import os
          greeting: str = f'Hello {x}'
          doubled = n * 2
          def helper():
              return os.sep
      - name: Flaky
        retry: 1
        bash: test -e /tmp/once || { touch /tmp/once; exit 1; }; echo retried
      - name: Show
        echo: "\${{ stages.set.outputs.greeting }} \${{ stages.set.outputs.doubled }} helper=[\${{ stages.set.outputs.helper }}] os=[\${{ stages.set.outputs.os }}]"
`)
    const { code, stdout } = await runNode(CLI, ['run', file])
    expect(code).toBe(0)
    expect(printed(stdout, 'py').filter((l) => !/^(job|stage) |^\$ /.test(l))).toEqual([
      "warning: stage 'Flaky' failed (exit code 1); retry 1 of 1",
      'retried',
      'Hello world 4 helper=[None] os=[None]'
    ])
  })

  it("keeps a remove: false job's container, and only that, until cleanup", async () => {
    const file = pipelineFile(`type: Workflow
jobs:
  kept:
    runs-on: {type: container, with: {image: ${BUSYBOX}, remove: false}}
    stages: [{name: s, bash: 'true'}]
  gone:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages: [{name: s, bash: 'true'}]
`)
    const { code, stdout } = await runNode(CLI, ['run', file])
    expect(code).toBe(0)
    const runId = /^run (\S+) success/m.exec(stdout)![1]
    const filters = JSON.stringify({ label: [`ctr-pipeline.run-id=${runId}`] })
    const containers = await docker.listContainers({ all: true, filters })
    expect(containers.map((c) => c.Labels['ctr-pipeline.job'])).toEqual(['kept'])
    expect(await leftovers(runId)).toEqual({ containers: 1, volumes: 1, networks: 1, images: 0 })
    expect(stdout).toContain(`remove them with: ctr-pipeline cleanup --run-id ${runId}`)
    await runNode(CLI, ['cleanup', '--run-id', runId])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('plan shows the schedule and the workflow named', async () => {
    const { code, stdout } = await runNode(CLI, [
      'plan',
      pipelineFile(KEYED),
      '--workflow',
      'greet',
      '--param',
      'name=x'
    ])
    expect(code).toBe(0)
    expect(stdout.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^pipeline greet \(.*workflows\.yml\)$/),
      'on: schedule 0 9 * * 1 (Asia/Bangkok) (run starts it now; an export schedules it)'
    ])
  })

  it('refuses a file of several workflows with none named, listing them (exit 2)', async () => {
    const file = pipelineFile(KEYED)
    const { code, stderr } = await runNode(CLI, ['run', file])
    expect(code).toBe(2)
    expect(stderr).toContain(
      `${file}:1:1: this file holds 2 workflows (other, greet): name one with --workflow NAME`
    )
  })

  it("reads ${{ }} in a page-form bash script as the expression it is (it printed 'hello ' before)", async () => {
    const file = pipelineFile(`params: {name: {default: world}}
jobs:
  a:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - {name: s, type: sh, run: 'echo "hello \${{ params.name }}"'}
`)
    const { code, stdout } = await runNode(CLI, ['run', file])
    expect(code).toBe(0)
    expect(printed(stdout, 'a')).toContain('hello world')
  })
})
