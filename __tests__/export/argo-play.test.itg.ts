import type { IWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Workflow'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { exportOptions } from '../../src/app/export-options.js'
import { preparePlan } from '../../src/app/prepare-plan.js'
import { exportArgo } from '../../src/export/argo/argo-export.js'
import type { RunResult } from '../../src/scheduler/run-result.js'
import { loadPipelineFile } from '../../src/pipeline/load-pipeline.js'
import { BUSYBOX, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import { miniArgo, type TaskRun } from '../helpers/mini-argo.js'

/**
 * An export must do what a local run does. Each pipeline here runs locally and, exported,
 * on miniArgo (the workflow's scripts in their images on the same engine, with Argo's
 * substitutions): every instance's status and outputs must be the same.
 */
async function both(dir: string, maps: string[], env: Record<string, string> = {}) {
  const file = path.join(dir, 'pipeline.yml')
  const local = await runYaml(readFileSync(file, 'utf8'), { dir, env })
  const pipeline = await loadPipelineFile(file)
  const { params, plan } = preparePlan(pipeline, {})
  const options = exportOptions({ set: [], map: maps, drop: [] }, pipeline)
  const workflow = parse(exportArgo(plan, params, options)) as IWorkflow
  const secrets = { [options.secretName]: env }
  return { local: local.result, played: await miniArgo(workflow, secrets), runId: local.runId }
}

const PHASE = { success: 'Succeeded', failure: 'Failed', skipped: 'Omitted' } as const

/** Each local instance as miniArgo names its task: `job`, or `job/job-N` in a matrix. */
function compare(local: RunResult, played: Record<string, TaskRun>, matrixJobs: string[] = []) {
  const seen: Record<string, number> = {}
  return local.jobs.map((job) => {
    const n = (seen[job.job] = (seen[job.job] ?? 0) + 1)
    const task = matrixJobs.includes(job.job) ? `${job.job}/${job.job}-${n}` : job.job
    const run = played[task]
    // Argo gives every declared output its default ('') where a failed job wrote none.
    const outputs =
      run?.phase === 'Failed' && Object.values(run.outputs).every((v) => v === '')
        ? {}
        : run?.outputs
    return {
      task,
      local: { status: PHASE[job.status as keyof typeof PHASE], outputs: job.outputs },
      played: { status: run?.phase, outputs: run?.phase === 'Omitted' ? {} : outputs }
    }
  })
}

/**
 * A folder with a pipeline whose `list` job outputs `found` and whose `check` job has
 * `strategy` and runs `run` (sh); returns the folder.
 */
function fanPipeline(found: string, strategy: string, run: string): string {
  const dir = tempDir()
  writeFileSync(
    path.join(dir, 'pipeline.yml'),
    `name: fan
jobs:
  list:
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    outputs: {found: '{{ stages.ls.outputs.found }}'}
    stages:
      - id: ls
        type: sh
        run: |
          cat > "$CTR_OUTPUT" <<'EOF'
          found=${found}
          EOF
  check:
    needs: [list]
    strategy: ${strategy}
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - type: sh
        run: |
          ${run}
`
  )
  return dir
}

describe('export --to argo, played on the engine', () => {
  afterAll(async () => {
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('runs the quick start as locally: outputs handed on, the host folder mapped', async () => {
    const dir = tempDir()
    cpSync('examples/pipeline.yml', path.join(dir, 'pipeline.yml'))
    cpSync('examples/data', path.join(dir, 'data'), { recursive: true })
    const { local, played } = await both(dir, [`./data=hostPath:${dir}/data`])
    expect(local.jobs.map((j) => j.outputs.rows ?? j.outputs.report)).toEqual([
      '5',
      '/ctr/workspace/report.txt'
    ])
    expect(played.report.logs).toBe('prep counted 5 rows (36 units)\n')
    for (const { local: l, played: p } of compare(local, played)) expect(p).toEqual(l)
  })

  it('keeps statuses, matrix outputs, always(), continue_on_error and secrets as locally', async () => {
    const dir = tempDir()
    writeFileSync(
      path.join(dir, 'pipeline.yml'),
      `name: export-play
params:
  greeting: {type: str, default: "it's a $HOME"}
jobs:
  build:
    strategy:
      matrix:
        n: [1, 2]
    runs-on:
      type: container
      with:
        image: ${BUSYBOX}
        environment:
          TOKEN: '\${TOKEN}'
          AUTH: 'Bearer \${TOKEN} $5'
          GREETING: '{{ params.greeting }}'
    stages:
      - name: make
        type: sh
        run: |
          echo "n={{ matrix.n }}" >> "$CTR_OUTPUT"
          echo "auth=$AUTH" >> "$CTR_OUTPUT"
          echo "$GREETING" > "$CTR_WORKSPACE/hello-{{ matrix.n }}"
      - {name: flaky, type: sh, run: 'exit 1', continue_on_error: true}
    outputs:
      n: '{{ stages.make.outputs.n }}'
      auth: '{{ stages.make.outputs.auth }}'
  check:
    needs: [build]
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - name: read
        type: sh
        run: |
          echo "greeting=$(cat "$CTR_WORKSPACE/hello-2")" >> "$CTR_OUTPUT"
          echo "seen={{ needs.build.outputs.n }}" >> "$CTR_OUTPUT"
    outputs:
      greeting: '{{ stages.read.outputs.greeting }}'
      seen: '{{ stages.read.outputs.seen }}'
      auth: '{{ needs.build.outputs.auth }}'
  fail:
    needs: [check]
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages:
      - {name: first, type: sh, run: 'exit 3'}
      - {name: never, type: sh, run: 'echo never'}
      - {name: cleanup, type: sh, if: 'always()', run: 'echo cleaned'}
    outputs:
      x: '{{ stages.cleanup.outputs.x }}'
  after:
    needs: [fail]
    runs-on: {type: container, with: {image: ${BUSYBOX}}}
    stages: [{name: s, type: sh, run: 'echo never'}]
`
    )
    const { local, played } = await both(dir, [], { TOKEN: 's3cret' })
    const rows = compare(local, played, ['build'])
    expect(rows.map((r) => r.local.status)).toEqual([
      'Succeeded',
      'Succeeded',
      'Succeeded',
      'Failed',
      'Omitted'
    ])
    expect(local.jobs[2].outputs).toEqual({
      greeting: "it's a $HOME",
      seen: '[1,2]',
      auth: '["Bearer s3cret $5","Bearer s3cret $5"]'
    })
    expect(played.fail.logs).toBe('cleaned\n')
    for (const { task, local: l, played: p } of rows) expect({ task, ...p }).toEqual({ task, ...l })
  })

  it.each([
    [
      'values',
      '["a.csv","b c.csv"]',
      "file: '{{ fromJSON(needs.list.outputs.found) }}'",
      '{{ matrix.file }}'
    ],
    [
      'rows',
      '[{"file":"a.csv","n":1},{"file":"b c.csv","n":2}]',
      "include: '{{ fromJSON(needs.list.outputs.found) }}'",
      '{{ matrix.file }}#{{ matrix.n }}'
    ]
  ])(
    'fans a matrix of %s out withParam, each pod its instance, as locally',
    async (_, found, matrix, said) => {
      const dir = fanPipeline(
        found,
        `{max_parallel: 1, matrix: {${matrix}}}`,
        `echo "${said} in $CTR_JOB_DIR" | sed "s|/check-.*|/check-N|"`
      )
      const { local, played } = await both(dir, [])
      const lines = (text: string) => text.split('\n').filter(Boolean).sort()
      expect(local.jobs.map((j) => [j.id, j.status])).toEqual([
        ['list', 'success'],
        ...(matrix.startsWith('file')
          ? [
              ['check (a.csv)', 'success'],
              ['check (b c.csv)', 'success']
            ]
          : [
              ['check (a.csv, 1)', 'success'],
              ['check (b c.csv, 2)', 'success']
            ])
      ])
      const playedLogs = Object.entries(played)
        .filter(([task]) => /^check\/check-item\(\d\)$/.test(task))
        .map(([task, run]) => [task, run.phase, run.logs] as const)
      expect(playedLogs.map(([task, phase]) => [task, phase])).toEqual([
        ['check/check-item(0)', 'Succeeded'],
        ['check/check-item(1)', 'Succeeded']
      ])
      const expected = matrix.startsWith('file')
        ? ['a.csv in /ctr/workspace/jobs/check-N', 'b c.csv in /ctr/workspace/jobs/check-N']
        : ['a.csv#1 in /ctr/workspace/jobs/check-N', 'b c.csv#2 in /ctr/workspace/jobs/check-N']
      expect(lines(playedLogs.map(([, , logs]) => logs).join(''))).toEqual(expected)
      expect(played.check.phase).toBe('Succeeded')
    }
  )

  it('skips a job fanned out over an empty list, as a run skips it', async () => {
    const dir = fanPipeline(
      '[]',
      "{matrix: {file: '{{ fromJSON(needs.list.outputs.found) }}'}}",
      'echo never'
    )
    const { local, played } = await both(dir, [])
    expect(local.jobs.map((j) => [j.id, j.status])).toEqual([
      ['list', 'success'],
      ['check', 'skipped']
    ])
    expect(played['check/check-item'].phase).toBe('Skipped')
  })
})
