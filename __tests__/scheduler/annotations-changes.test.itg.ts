import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BUSYBOX, leftovers, NOTHING_LEFT, PYTHON, runYaml, tempDir } from '../helpers/engine.js'
import { CLI, runNode } from '../helpers/processes.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

describe('$CTR_ANNOTATIONS', () => {
  it("keeps a stage's annotations, pointing mounted paths at the host's file", async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'data'))
    writeFileSync(path.join(dir, 'data', 'sales.csv'), 'item,price\na,1\nb,\n')
    const { result, lines } = await runYaml(
      [
        'jobs:',
        '  check:',
        `    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: ./data, target: /data, mode: ro}]}}`,
        '    stages:',
        '      - name: rows',
        '        type: sh',
        '        run: |',
        '          echo "::error file=/data/sales.csv,line=3,col=3,title=Bad row::price is empty" >> "$CTR_ANNOTATIONS"',
        '          echo "::warning file=docs/notes.md::two%0Alines" >> "$CTR_ANNOTATIONS"',
        '          echo "not an annotation" >> "$CTR_ANNOTATIONS"',
        '          echo "n=2" >> "$CTR_OUTPUT"',
        '      - {name: quiet, type: sh, run: "true"}',
        ''
      ].join('\n'),
      { dir }
    )
    const [rows, quiet] = result.jobs[0].stages
    expect(rows.outputs).toEqual({ n: '2' })
    expect(rows.annotations).toEqual([
      {
        level: 'error',
        message: 'price is empty',
        file: path.join(dir, 'data', 'sales.csv'),
        line: 3,
        col: 3,
        title: 'Bad row'
      },
      { level: 'warning', message: 'two\nlines', file: 'docs/notes.md' }
    ])
    expect(quiet.annotations).toBeUndefined()
    expect(lines).toContain(
      `[check] ${path.join(dir, 'data', 'sales.csv')}:3:3: error: Bad row: price is empty`
    )
    expect(lines.some((l) => l.includes('warning: $CTR_ANNOTATIONS line 3 is not'))).toBe(true)
  })
})

describe('changed_files', () => {
  const yaml = [
    'jobs:',
    '  data:',
    '    changed_files: ["data/**/*.csv", "!data/tmp/**"]',
    `    runs-on: {with: {image: ${BUSYBOX}}}`,
    '    stages: [{name: list, type: sh, run: \'echo "files: $(echo "$CTR_CHANGED_FILES" | tr "\\n" " ")"\'}]',
    '  docs:',
    '    changed_files: ["docs/**"]',
    `    runs-on: {with: {image: ${BUSYBOX}}}`,
    '    stages: [{name: s, type: sh, run: "true"}]',
    '  after-docs:',
    '    needs: docs',
    `    runs-on: {with: {image: ${BUSYBOX}}}`,
    '    stages: [{name: s, type: sh, run: "true"}]',
    ''
  ].join('\n')

  it('runs a job only when the change touches its globs, and tells it which files', async () => {
    const { result, lines } = await runYaml(yaml, {
      changedFiles: ['data/sales.csv', 'data/tmp/x.csv', 'src/app.ts', 'data/2024/q1.csv']
    })
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['data', 'success', undefined],
      ['docs', 'skipped', 'skipped: no changed file matches its changed_files'],
      ['after-docs', 'skipped', "skipped: needed job 'docs' did not succeed"]
    ])
    expect(lines).toContain('[data] files: data/sales.csv data/2024/q1.csv ')
    expect(result.status).toBe('success')
  })

  it('runs every job when the changed files are not known (not a pull request)', async () => {
    const { result } = await runYaml(yaml)
    expect(result.jobs.map((j) => j.status)).toEqual(['success', 'success', 'success'])
  })

  it('takes the list from --changed-files-from in the CLI', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'pipeline.yml'), yaml)
    writeFileSync(path.join(dir, 'changed.txt'), 'docs/index.md\n')
    const { code, stdout } = await runNode(CLI, [
      'run',
      path.join(dir, 'pipeline.yml'),
      '--changed-files-from',
      path.join(dir, 'changed.txt')
    ])
    expect(code).toBe(0)
    expect(stdout).toContain('[data] job skipped: no changed file matches its changed_files')
    expect(stdout).toContain('[docs] job success')
  })
})

/**
 * A folder holding a pipeline.yml whose one job, `use`, runs `stage` in BusyBox with
 * `environment` (YAML flow text), and then `more` lines of the job.
 */
function useJob(environment: string, stage: string, ...more: string[]) {
  const dir = tempDir()
  const file = path.join(dir, 'pipeline.yml')
  writeFileSync(
    file,
    [
      'jobs:',
      '  use:',
      `    runs-on: {with: {image: ${BUSYBOX}, environment: ${environment}}}`,
      '    stages:',
      `      - ${stage}`,
      ...more,
      ''
    ].join('\n')
  )
  return { dir, file }
}

describe('secrets', () => {
  it('never shows a ${VAR} value in the log, the result document or the plan', async () => {
    const { dir, file } = useJob(
      '{TOKEN: "${API_KEY}", SHA: "${GITHUB_SHA}"}',
      '{name: leak, type: sh, run: \'echo "token is $TOKEN, sha is $SHA"; echo "t=$TOKEN" >> "$CTR_OUTPUT"\'}',
      '    outputs: {t: "{{ stages.leak.outputs.t }}"}'
    )
    const env = { API_KEY: 'tok-4815162342', GITHUB_SHA: 'abcdef1234' }
    const resultFile = path.join(dir, 'result.json')
    const run = await runNode(CLI, ['run', file, '--result', resultFile], env)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('[use] token is ***, sha is abcdef1234')
    const plan = await runNode(CLI, ['plan', file, '--json'], env)
    expect(JSON.parse(plan.stdout).jobs[0].instances[0].container.env.TOKEN).toBe('***')
    for (const text of [run.stdout, run.stderr, readFileSync(resultFile, 'utf8'), plan.stdout])
      expect(text).not.toContain('tok-4815162342')
  })

  it('--env-file and --secret-file set ${VAR}s; every secret-file value is masked, used or not', async () => {
    const { dir, file } = useJob(
      '{GREETING: "${GREETING}", TOKEN: "${API_KEY}"}',
      '{name: show, type: sh, run: \'echo "greeting of ${#GREETING} characters, token $TOKEN"; echo "unused one: db-pa55word"\'}'
    )
    // DOCKER_HOST in a file is a variable for the pipeline, never where the engine is.
    writeFileSync(
      path.join(dir, 'vars.env'),
      'GREETING="hello there"\nAPI_KEY=from-env-file\nDOCKER_HOST=unix:///nonexistent/docker.sock\n'
    )
    writeFileSync(path.join(dir, 'ci.secrets'), 'API_KEY=tok-4815162342\nDB_PASSWORD=db-pa55word\n')
    const run = await runNode(
      CLI,
      [
        'run',
        file,
        '--env-file',
        path.join(dir, 'vars.env'),
        '--secret-file',
        path.join(dir, 'ci.secrets')
      ],
      { GREETING: 'from the environment' }
    )
    expect(run.code).toBe(0)
    expect(
      run.stdout.split('\n').filter((l) => l.startsWith('[use] ') && !/job |stage /.test(l))
    ).toEqual(['[use] greeting of 11 characters, token ***', '[use] unused one: ***'])
    const bad = await runNode(CLI, [
      'run',
      file,
      '--secret-file',
      path.join(dir, 'vars.env.missing')
    ])
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      `--secret-file ${path.join(dir, 'vars.env.missing')}: cannot read it (no such file)`
    ])
  })

  it('masks a secret that straddles the 64 KiB cut of an endless line', async () => {
    const file = path.join(tempDir(), 'pipeline.yml')
    // The line's end comes later, so the splitter must cut at 64 KiB: inside TOKEN.
    writeFileSync(
      file,
      `jobs:
  long:
    runs-on: {with: {image: ${PYTHON}, environment: {TOKEN: "\${API_KEY}"}}}
    stages:
      - name: write
        type: py
        run: |
          import os, sys, time
          sys.stdout.write("L" * (65536 - 7) + os.environ["TOKEN"]); sys.stdout.flush()
          time.sleep(0.3); sys.stdout.write("\\n"); sys.stdout.flush()
`
    )
    const run = await runNode(CLI, ['run', file], { API_KEY: 'tok-4815162342' })
    expect(run.code).toBe(0)
    // Not toContain: a failure would print 64 KiB of L.
    expect(run.stdout.includes(`[long] ${'L'.repeat(65536 - 7)}\n[long] ***\n`)).toBe(true)
    for (const piece of ['tok-4815162342', 'tok-481', '5162342'])
      expect(run.stdout).not.toContain(piece)
  })

  it('neutralises the legacy ##[command] form when the CLI runs in a runner step', async () => {
    const file = path.join(tempDir(), 'pipeline.yml')
    writeFileSync(
      file,
      [
        'jobs:',
        '  say:',
        `    runs-on: {with: {image: ${BUSYBOX}}}`,
        '    stages:',
        `      - {name: say, type: sh, run: 'echo "x ##[error]injected"'}`,
        ''
      ].join('\n')
    )
    const inStep = await runNode(CLI, ['run', file], { GITHUB_ACTIONS: 'true' })
    expect(inStep.code).toBe(0)
    expect(inStep.stdout).toContain('[say] x ##\u200b[error]injected\n')
    const local = await runNode(CLI, ['run', file], {})
    expect(local.stdout).toContain('[say] x ##[error]injected\n')
  })
})

describe('the examples of the headline uses', () => {
  const root = path.resolve(import.meta.dirname, '../..')
  it('data-checks points at the bad rows of the CSV files a change touches', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'changed.txt'), 'examples/data-checks/data/orders.csv\n')
    const resultFile = path.join(dir, 'result.json')
    const { code, stdout } = await runNode(CLI, [
      'run',
      path.join(root, 'examples/data-checks/pipeline.yml'),
      '--param',
      'image=ctr-fixtures/python:3.11',
      '--changed-files-from',
      path.join(dir, 'changed.txt'),
      '--result',
      resultFile
    ])
    expect(code).toBe(1)
    const csv = 'csv (examples/data-checks/data/orders.csv)'
    expect(stdout).toContain(`[${csv}] examples/data-checks/data/orders.csv: 2 bad rows`)
    const doc = JSON.parse(readFileSync(resultFile, 'utf8')) as {
      jobs: Array<{
        id: string
        stages: Array<{ annotations?: Array<{ file: string; line: number }> }>
      }>
    }
    expect(doc.jobs.map((j) => j.id)).toEqual(['changed', csv])
    expect(doc.jobs[1].stages[0].annotations?.map((a) => `${a.file}:${a.line}`)).toEqual([
      'examples/data-checks/data/orders.csv:3',
      'examples/data-checks/data/orders.csv:5'
    ])
  })

  it('cross-platform runs one job over every image', async () => {
    const { code, stdout } = await runNode(CLI, [
      'run',
      path.join(root, 'examples/cross-platform.yml')
    ])
    expect(code).toBe(0)
    expect(stdout).toContain(
      '[test (ctr-fixtures/python:3.11)] tests pass on ctr-fixtures/python:3.11'
    )
    expect(stdout).toContain('[test (ctr-fixtures/busybox:latest)] job success; outputs: platform=')
  })
})
