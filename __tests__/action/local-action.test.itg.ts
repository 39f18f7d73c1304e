import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseOutputFile } from '../../src/scheduler/output-file.js'
import { BUSYBOX, leftovers, NOTHING_LEFT, tempDir } from '../helpers/engine.js'

const root = path.resolve(import.meta.dirname, '../..')
const LOCAL_ACTION = path.join(root, 'node_modules/@github/local-action/bin/local-action.js')

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** Runs `local-action run <repo> <entry> <env file>`, GitHub's own action runner for development. */
function localAction(
  envFile: string,
  entry = 'dist/action/index.js'
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LOCAL_ACTION, 'run', root, entry, envFile], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.on('close', (code) => resolve({ code, stdout }))
  })
}

/** A job that counts 5 rows and outputs the count: the start of both pipelines here. */
const COUNT_JOB = [
  '  count:',
  `    runs-on: {with: {image: ${BUSYBOX}}}`,
  '    stages: [{name: count, type: sh, run: "echo rows=5 >> $CTR_OUTPUT"}]',
  '    outputs: {rows: "{{ stages.count.outputs.rows }}"}'
]

describe('the bundled action under @github/local-action', () => {
  it('runs a two-job pipeline and writes its outputs and summary', async () => {
    const dir = tempDir('ctr-local-action-')
    const pipeline = path.join(dir, 'pipeline.yml')
    writeFileSync(
      pipeline,
      [
        'name: two-jobs',
        'jobs:',
        ...COUNT_JOB,
        '  report:',
        '    needs: count',
        '    strategy: {matrix: {fmt: [csv, json]}}',
        `    runs-on: {with: {image: ${BUSYBOX}}}`,
        '    stages: [{name: show, type: sh, run: "echo {{ matrix.fmt }}:{{ needs.count.outputs.rows }}"}]',
        ''
      ].join('\n')
    )
    const files = { output: path.join(dir, 'output'), summary: path.join(dir, 'summary.md') }
    for (const file of Object.values(files)) writeFileSync(file, '')
    const envFile = path.join(dir, '.env')
    writeFileSync(
      envFile,
      [
        `INPUT_PIPELINE=${pipeline}`,
        `GITHUB_WORKSPACE=${dir}`,
        `GITHUB_OUTPUT=${files.output}`,
        `GITHUB_STEP_SUMMARY=${files.summary}`,
        `RUNNER_TEMP=${dir}`,
        ''
      ].join('\n')
    )
    const { code, stdout } = await localAction(envFile)
    expect(stdout).toContain('[report (json)] json:5')
    expect(code).toBe(0)
    const outputs = parseOutputFile(readFileSync(files.output, 'utf8'))
    expect(outputs.status).toBe('success')
    expect(JSON.parse(outputs.outputs)).toEqual({ count: { rows: '5' }, report: {} })
    const result = JSON.parse(outputs.result) as { run_id: string; jobs: Array<{ id: string }> }
    expect(result.run_id).toBe(outputs['run-id'])
    expect(result.jobs.map((j) => j.id)).toEqual(['count', 'report (csv)', 'report (json)'])
    const summary = readFileSync(files.summary, 'utf8')
    expect(summary).toContain('## ✅ two-jobs: success')
    expect(summary).toContain(
      [
        '```mermaid',
        'flowchart LR',
        '  j0["count"]',
        '  j1["report ×2"]',
        '  j0 --> j1',
        '  classDef success fill:#dafbe1,stroke:#1a7f37,color:#1a7f37',
        '  class j0,j1 success',
        '```'
      ].join('\n')
    )
    expect(summary).toMatch(/\| count \| {2}\| ✅ success \| \d+\.\d\d s \| 0 \| {2}\| rows=5 \|/)
    expect(summary).toMatch(/\| report \| fmt=csv \| ✅ success \| \d+\.\d\d s \| 0 \| {2}\| {2}\|/)
    expect(summary).toMatch(/\| report \| fmt=json \| ✅ success \|/)
  })

  it('runs the TypeScript source through its harness, whose own report shows the outputs', async () => {
    // The bundle has @actions/core inside it, out of local-action's reach: it writes to
    // GITHUB_OUTPUT itself, and local-action says "No outputs were set!". The source's
    // @actions/core is the one local-action stubs, so its report lists every output.
    const dir = tempDir('ctr-local-action-')
    const pipeline = path.join(dir, 'pipeline.yml')
    writeFileSync(pipeline, ['jobs:', ...COUNT_JOB, ''].join('\n'))
    const envFile = path.join(dir, '.env')
    writeFileSync(
      envFile,
      [`INPUT_PIPELINE=${pipeline}`, `GITHUB_WORKSPACE=${dir}`, `RUNNER_TEMP=${dir}`, ''].join('\n')
    )
    const { code, stdout } = await localAction(envFile, 'src/entry/action.ts')
    expect(code).toBe(0)
    expect(stdout).not.toContain('No outputs were set!')
    const report = stdout.slice(stdout.indexOf('Action Outputs'))
    expect(report).toMatch(/│ 'status' +│ 'success' +│/)
    expect(report).toMatch(/│ 'outputs' +│ '\{"count":\{"rows":"5"\}\}' +│/)
    expect(report).toMatch(/│ 'run-id' +│ '\d{8}-\d{6}-[0-9a-f]{6}' +│/)
  })
})
