import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, tempDir } from '../helpers/engine.js'
import { runNode, subActionEntry } from '../helpers/processes.js'
import { runnerEnv, workflowCommands } from '../helpers/runner.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** Runs a sub-action as the runner does: its entry in dist/sub-actions/, with INPUT_*. */
function subAction(
  action: string,
  inputs: Record<string, string>,
  workspace?: string,
  state: Record<string, string> = {}
) {
  const runner = runnerEnv(inputs, state)
  const env: Record<string, string> = { ...runner.env }
  if (workspace) env.GITHUB_WORKSPACE = workspace
  return runNode(subActionEntry(action), [], env).then((done) => ({ ...done, runner }))
}

describe('actions/job', () => {
  it('runs one inline job with the checkout mounted, its env and limits, and sets its outputs', async () => {
    const workspace = tempDir()
    writeFileSync(path.join(workspace, 'VERSION'), '1.2.3\n')
    const { code, stdout, runner } = await subAction(
      'job',
      {
        image: BUSYBOX,
        shell: 'sh',
        run: [
          'echo "in $(pwd): $(cat VERSION) for $TARGET"',
          'echo "limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)" >> "$CTR_OUTPUT"',
          "echo 'literal {{ kept }} and ${KEPT}'"
        ].join('\n'),
        env: 'TARGET=linux/amd64',
        resources: 'memory: 64m',
        'mount-workspace': 'true'
      },
      workspace
    )
    expect(code).toBe(0)
    expect(stdout).toContain('[job] in /github/workspace: 1.2.3 for linux/amd64')
    expect(stdout).toContain('[job] literal {{ kept }} and ${KEPT}')
    const outputs = runner.read('output')
    expect(outputs.status).toBe('success')
    expect(outputs['exit-code']).toBe('0')
    expect(JSON.parse(outputs.outputs)).toEqual({ limit: String(64 * 1024 * 1024) })
    expect(runner.summary()).toContain('| job |  | ✅ success |')
  })

  it('fails with the script’s exit code', async () => {
    const { code, runner } = await subAction('job', { image: BUSYBOX, shell: 'sh', run: 'exit 5' })
    expect(code).toBe(1)
    expect(runner.read('output')['exit-code']).toBe('5')
  })

  it('its post step removes what a cancelled job left', async () => {
    const runId = 'job-post-step-test'
    await docker.createVolume({
      Name: `ctr-pipeline-${runId}`,
      Labels: { 'ctr-pipeline.managed': 'true', 'ctr-pipeline.run-id': runId }
    })
    const { code, stdout } = await subAction('job', { image: BUSYBOX }, undefined, {
      isPost: 'true',
      runId
    })
    expect(code).toBe(0)
    expect(stdout).toContain(`removed 1 resources left by run ${runId}`)
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('names the input that is wrong', async () => {
    const { code, stdout } = await subAction('job', { image: BUSYBOX, shell: 'fish', run: 'x' })
    expect(code).toBe(1)
    expect(stdout).toContain("::error::input 'shell' is 'fish': expected bash, sh or python")
  })
})

describe('actions/validate', () => {
  it('annotates every problem at its line and fails; valid files pass', async () => {
    const workspace = tempDir()
    mkdirSync(path.join(workspace, 'pipelines'))
    writeFileSync(
      path.join(workspace, 'pipelines', 'good.yml'),
      `jobs: {a: {runs-on: {with: {image: ${BUSYBOX}}}}}\n`
    )
    writeFileSync(
      path.join(workspace, 'pipelines', 'bad.yml'),
      [
        'jobs:',
        '  a:',
        '    needs: [nope]',
        `    runs-on: {with: {image: ${BUSYBOX}, memroy: 1g}}`,
        ''
      ].join('\n')
    )
    const { code, stdout, runner } = await subAction(
      'validate',
      { files: 'pipelines/*.yml' },
      workspace
    )
    expect(code).toBe(1)
    expect(stdout).toContain('pipelines/good.yml: valid')
    const errors = workflowCommands(stdout).filter((c) => c.command === 'error')
    expect(errors.map((e) => e.properties)).toEqual([
      'title=invalid pipeline,file=pipelines/bad.yml,line=3,col=13',
      expect.stringMatching(/^title=invalid pipeline,file=pipelines\/bad.yml,line=4,col=\d+$/),
      ''
    ])
    expect(errors.at(-1)!.data).toBe('1 of 2 pipeline files are invalid')
    expect(runner.read('output').valid).toBe('false')
  })
})

describe('actions/export', () => {
  it('writes the export to its output file, the same as the CLI', async () => {
    const output = path.join(tempDir(), 'workflow.yaml')
    const { code, runner } = await subAction('export', {
      file: 'examples/pipeline.yml',
      to: 'argo',
      map: './data=pvc:sales-data',
      output
    })
    expect(code).toBe(0)
    expect(runner.read('output').file).toBe(output)
    expect(readFileSync(output, 'utf8')).toBe(
      readFileSync('__tests__/fixtures/export/argo/pipeline.yaml', 'utf8')
    )
  })

  it('annotates what the target cannot be given at its line, and fails', async () => {
    const { code, stdout } = await subAction('export', {
      file: 'examples/pipeline.yml',
      to: 'argo'
    })
    expect(code).toBe(1)
    const [error] = workflowCommands(stdout).filter((c) => c.command === 'error')
    expect(error.properties).toBe(
      'title=invalid pipeline,file=examples/pipeline.yml,line=20,col=23'
    )
  })
})

describe('actions/cleanup', () => {
  it('removes what a run left, by label', async () => {
    const runId = 'cleanup-action-test'
    await docker.createVolume({
      Name: `ctr-pipeline-${runId}`,
      Labels: { 'ctr-pipeline.managed': 'true', 'ctr-pipeline.run-id': runId }
    })
    const { code, runner } = await subAction('cleanup', { 'run-id': runId })
    expect(code).toBe(0)
    expect(JSON.parse(runner.read('output').removed)).toEqual({
      containers: 0,
      volumes: 1,
      networks: 0,
      images: 0
    })
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})
