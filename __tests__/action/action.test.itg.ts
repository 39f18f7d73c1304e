import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { docker, leftovers, NOTHING_LEFT } from '../helpers/engine.js'
import { FakeResultsService } from '../helpers/fake-results-service.js'
import { ACTION, runNode } from '../helpers/processes.js'
import { runnerEnv } from '../helpers/runner.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

describe('the bundled action', () => {
  it('runs the pipeline input with params, groups logs per job and sets its outputs', async () => {
    const runner = runnerEnv({ pipeline: 'examples/quickstart.yml', params: 'dataset: sales' })
    const { code, stdout } = await runNode(ACTION, [], runner.env)
    expect(code).toBe(0)
    expect(stdout).toContain('::group::job prep')
    expect(stdout).toContain('[report] prep counted 5 rows (36 units)')
    const outputs = runner.read('output')
    expect(outputs.status).toBe('success')
    expect(JSON.parse(outputs.outputs)).toEqual({
      prep: { rows: '5', units: '36' },
      report: { report: '/ctr/workspace/report.txt' }
    })
    expect(JSON.parse(outputs.result)).toMatchObject({
      run_id: outputs['run-id'],
      status: 'success'
    })
    expect(runner.read('state')).toEqual({ isPost: 'true', runId: outputs['run-id'] })
  })

  it('takes an inline pipeline, fails the step, annotates the failed stage and shows its log tail', async () => {
    const inline = [
      'jobs:',
      '  check:',
      '    runs-on: {with: {image: ctr-fixtures/busybox:latest}}',
      '    stages:',
      '      - {name: bad-rows, type: sh, run: "seq 1 100; echo \'<row 7> & more\'; exit 4"}',
      '  other:',
      '    runs-on: {with: {image: ctr-fixtures/busybox:latest}}',
      '    stages: [{name: fine, type: sh, run: "sleep 1"}]',
      ''
    ].join('\n')
    const runner = runnerEnv({ pipeline: inline, 'max-parallel': '2' })
    const { code, stdout } = await runNode(ACTION, [], runner.env)
    expect(code).toBe(1)
    expect(stdout).toContain(
      '::error title=ctr-pipeline stage failed,file=pipeline input,line=5,col=9::job check, stage bad-rows: exit code 4'
    )
    expect(stdout).toContain('::error::pipeline failure: check failed')
    expect(runner.read('output').status).toBe('failure')
    // The two jobs ran side by side, yet every line of each is folded into a group of its
    // own (the live one's may be closed around the other's and go on "(continued)").
    let group = ''
    const placed: string[] = []
    for (const line of stdout.split('\n')) {
      if (line.startsWith('::group::job ')) group = line.slice('::group::job '.length)
      else if (line === '::endgroup::') group = ''
      else if (/^\[(check|other)\]/.test(line))
        placed.push(`${line.slice(1, line.indexOf(']'))} in ${group.replace(' (continued)', '')}`)
    }
    expect(new Set(placed)).toEqual(new Set(['check in check', 'other in other']))
    const summary = runner.summary()
    expect(summary).toContain(
      "<details><summary>check failed: stage 'bad-rows' failed: exit code 4</summary>"
    )
    const tail = /```text\n([^]*?)\n```/.exec(summary)![1].split('\n')
    expect(tail).toHaveLength(40)
    expect(tail.slice(-2)).toEqual(['100', '<row 7> & more'])
  })

  it('sets status, result, result-file and the summary when the job outputs are too big for GitHub', async () => {
    const inline = [
      'jobs:',
      '  j:',
      '    runs-on: {with: {image: ctr-fixtures/busybox:latest}}',
      '    stages:',
      `      - {name: a, type: sh, run: 'printf blob= >> "$CTR_OUTPUT"; head -c 300000 /dev/zero | tr "\\0" x >> "$CTR_OUTPUT"'}`,
      '    outputs: {blob: "{{ stages.a.outputs.blob }}"}',
      ''
    ].join('\n')
    const runner = runnerEnv({ pipeline: inline })
    const { code, stdout } = await runNode(ACTION, [], runner.env)
    expect(code).toBe(1)
    const outputs = runner.read('output')
    expect(outputs.status).toBe('success')
    const resultFile = outputs['result-file']
    const error = `the job outputs take 586 KiB, more than the 512 KiB the action may set (GitHub keeps at most 1 MB of outputs per job): they are in the result file, ${resultFile}; write large values to a file in $CTR_WORKSPACE or an artifact, and output its path`
    expect(stdout).toContain(`::error::${error}`)
    expect(JSON.parse(outputs.outputs)).toEqual({ too_large: error, result_file: resultFile })
    expect(JSON.parse(outputs.result)).toMatchObject({ status: 'success' })
    const whole = JSON.parse(readFileSync(resultFile, 'utf8')) as {
      jobs: { outputs: Record<string, string> }[]
    }
    expect(whole.jobs[0].outputs.blob).toHaveLength(300_000)
    expect(runner.summary()).toContain('success')
  })

  it.each([
    [{ pipeline: 'nope.yml' }, "input 'pipeline': no file 'nope.yml'"],
    [
      { pipeline: 'examples/quickstart.yml', params: '[1, 2]' },
      "input 'params' must be a YAML mapping"
    ],
    [{ pipeline: 'examples/quickstart.yml', params: 'rows: 3' }, "param 'rows' is not declared"],
    [
      { pipeline: 'examples/quickstart.yml', 'max-parallel': 'two' },
      "input 'max-parallel' is 'two': expected a whole number of at least 1"
    ],
    [
      { pipeline: 'examples/quickstart.yml', backend: 'k8s' },
      "input 'backend': no backend 'k8s' (known: docker, swarm)"
    ],
    [
      { pipeline: 'examples/quickstart.yml', backend: 'swarm', registry: 'http://r:5000' },
      "input 'registry' is 'http://r:5000': expected HOST[:PORT][/PATH], without a scheme (e.g. registry.example.com:5000)"
    ],
    [
      { pipeline: 'examples/quickstart.yml', backend: 'swarm', 'schedule-timeout': 'later' },
      "input 'schedule-timeout' is 'later': expected a duration such as 90s or 5m"
    ],
    [
      { pipeline: 'examples/quickstart.yml', backend: 'swarm', 'schedule-timeout': '0s' },
      "input 'schedule-timeout' is '0s': expected a duration such as 90s or 5m"
    ],
    [
      { pipeline: 'examples/quickstart.yml', backend: 'swarm', 'swarm-host': 'manager' },
      "input 'swarm-host' is 'manager': expected unix:///PATH, tcp://HOST:PORT or ssh://USER@HOST, as DOCKER_HOST takes it"
    ]
  ])('fails with an actionable message for inputs %j', async (inputs, message) => {
    const { code, stdout } = await runNode(ACTION, [], runnerEnv(inputs).env)
    expect(code).toBe(1)
    expect(stdout).toContain(`::error::${message}`)
  })

  it("uploads each instance's artifacts as a workflow artifact when asked", async () => {
    const service = new FakeResultsService()
    await service.start()
    try {
      const inline = [
        'jobs:',
        '  build:',
        '    strategy: {matrix: {n: [1, 2]}}',
        '    runs-on: {with: {image: ctr-fixtures/busybox:latest}}',
        '    artifacts: [/out]',
        '    stages:',
        '      - {name: make, type: sh, run: "mkdir /out; echo {{ matrix.n }} > /out/report-{{ matrix.n }}.txt"}',
        ''
      ].join('\n')
      const runner = runnerEnv({
        pipeline: inline,
        'upload-artifacts': 'true',
        'artifact-name-prefix': 'linux-'
      })
      const { code, stdout } = await runNode(ACTION, [], { ...runner.env, ...service.env() })
      expect(code).toBe(0)
      expect(stdout).toContain('uploaded artifact linux-build-1 (1 files')
      expect([...service.artifacts.keys()].sort()).toEqual(['linux-build-1', 'linux-build-2'])
      const second = service.artifacts.get('linux-build-2')!
      expect(second.finalized).toBe(true)
      // A zip holds each file's name in plain text, in its local header and its directory.
      expect(second.zip.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04')
      expect(second.zip.toString('latin1')).toContain('out/report-2.txt')
      expect(
        readFileSync(path.join(runner.dir, 'ctr-artifacts/build-2/out/report-2.txt'), 'utf8')
      ).toBe('2\n')
    } finally {
      await service.stop()
    }
  })

  it('writes the HTML report when asked, uploads it, and only warns when the upload fails', async () => {
    const service = new FakeResultsService()
    await service.start()
    try {
      const inline = [
        'jobs:',
        '  hello:',
        '    runs-on: {with: {image: ctr-fixtures/busybox:latest}}',
        '    stages: [{name: say, type: sh, run: "echo hello from the report"}]',
        ''
      ].join('\n')
      const runner = runnerEnv({ pipeline: inline, report: 'true' })
      const github = {
        // Any other host is GHES to @actions/artifact, which refuses it.
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'octo/repo',
        GITHUB_RUN_ID: '7'
      }
      const { code, stdout } = await runNode(ACTION, [], {
        ...runner.env,
        ...service.env(),
        ...github
      })
      expect(code).toBe(0)
      const outputs = runner.read('output')
      const file = outputs['report-file']
      expect(file).toBe(path.join(runner.dir, `ctr-report-${outputs['run-id']}.html`))
      const page = readFileSync(file, 'utf8')
      expect(page).toContain('<pre>hello from the report</pre>')
      expect(stdout).toContain('uploaded the report as artifact ctr-pipeline-report (')
      const artifact = service.artifacts.get('ctr-pipeline-report')!
      expect(artifact.finalized).toBe(true)
      expect(artifact.zip.toString('latin1')).toContain(path.basename(file))
      expect(runner.summary()).toContain(
        '\n\nThe full report, every log searchable: [ctr-pipeline-report](https://github.com/octo/repo/actions/runs/7/artifacts/42) (an HTML page, zipped).\n\n'
      )

      const offline = runnerEnv({ pipeline: inline, report: 'true' })
      const alone = await runNode(ACTION, [], offline.env)
      expect(alone.code).toBe(0)
      expect(alone.stdout).toContain(
        "::warning::uploading the report as artifact 'ctr-pipeline-report' failed: "
      )
      expect(existsSync(offline.read('output')['report-file'])).toBe(true)
      expect(offline.summary()).not.toContain('The full report')
    } finally {
      await service.stop()
    }
  })

  it('removes what the run left in its post step', async () => {
    const runId = 'post-step-test'
    await docker.createVolume({
      Name: `ctr-pipeline-${runId}`,
      Labels: { 'ctr-pipeline.managed': 'true', 'ctr-pipeline.run-id': runId }
    })
    const runner = runnerEnv({ pipeline: 'examples/quickstart.yml' }, { isPost: 'true', runId })
    const { code, stdout } = await runNode(ACTION, [], runner.env)
    expect(code).toBe(0)
    expect(stdout).toContain(`removed 1 resources left by run ${runId}`)
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})
