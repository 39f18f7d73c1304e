import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { preparePlan } from '../../src/app/prepare-plan.js'
import type { RunResult } from '../../src/scheduler/run-result.js'
import { loadPipelineFile } from '../../src/spec/load-pipeline.js'
import { BUSYBOX, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import { CLI, runNode } from '../helpers/processes.js'

const job = (body: string) => `    runs-on: {type: container, with: {image: ${BUSYBOX}}}\n${body}`

/**
 * A matrix whose instances each write the workspace and an output, a job reading both,
 * a failing job, a `failure()` job after it and a job skipped by it: every rule a
 * runner of a fan-out must apply on its own, from what its upstream handed on.
 */
const PIPELINE = `name: fan
jobs:
  build:
    strategy: {matrix: {n: [1, 2]}}
${job(`    stages:
      - {name: s, type: sh, run: 'echo b{{ matrix.n }} > "$CTR_WORKSPACE/b{{ matrix.n }}.txt"; echo v=n{{ matrix.n }} >> "$CTR_OUTPUT"'}
    outputs: {v: '{{ stages.s.outputs.v }}'}
`)}  test:
    needs: [build]
${job(`    stages:
      - {name: s, type: sh, run: 'cat "$CTR_WORKSPACE/b1.txt" "$CTR_WORKSPACE/b2.txt" > "$CTR_WORKSPACE/all.txt"; echo "got={{ needs.build.outputs.v }}" >> "$CTR_OUTPUT"'}
    outputs: {got: '{{ stages.s.outputs.got }}'}
`)}  broken:
    needs: [test]
${job(`    stages: [{name: s, type: sh, run: 'exit 3'}]
`)}  notify:
    needs: [broken]
    if: failure()
${job(`    stages: [{name: s, type: sh, run: 'echo notified'}]
`)}  deploy:
    needs: [broken]
${job(`    stages: [{name: s, type: sh, run: 'echo deployed'}]
`)}`

/** What a single run and a merged fan-out must agree on, instance by instance. */
function outcome(result: RunResult) {
  return {
    status: result.status,
    jobs: result.jobs.map((j) => [j.job, j.id, j.status, j.outputs, j.stages.map((s) => s.status)])
  }
}

describe('run --instance and results merge: a pipeline fanned out over separate processes', () => {
  afterAll(async () => {
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('gives, merged, the result of one local run', async () => {
    const local = await runYaml(PIPELINE)
    const dir = tempDir()
    const file = path.join(dir, 'pipeline.yml')
    writeFileSync(file, PIPELINE)
    const { plan } = preparePlan(await loadPipelineFile(file), {})
    // A folder per instance stands in for its runner: the artifacts of the jobs it needs,
    // downloaded into one folder (download-artifact's merge-multiple), then uploaded.
    const folderOf = new Map<string, string[]>()
    const codes: Array<[string, number | null]> = []
    for (const planned of plan.jobs) {
      const folders: string[] = []
      for (const instance of planned.instances) {
        const folder = path.join(dir, 'runners', instance.slug)
        mkdirSync(folder, { recursive: true })
        for (const need of planned.job.needs)
          for (const upstream of folderOf.get(need)!) cpSync(upstream, folder, { recursive: true })
        const run = await runNode(CLI, [
          'run',
          file,
          '--instance',
          instance.slug,
          '--inputs-from',
          folder
        ])
        codes.push([instance.slug, run.code])
        folders.push(folder)
      }
      folderOf.set(planned.id, folders)
    }
    expect(codes).toEqual([
      ['build-1', 0],
      ['build-2', 0],
      ['test', 0],
      ['broken', 1],
      ['notify', 0],
      ['deploy', 0]
    ])
    const merged = path.join(dir, 'merged.json')
    const merge = await runNode(CLI, [
      'results',
      'merge',
      file,
      ...[...folderOf.values()].flat().map((f) => path.join(f, 'results')),
      '--result',
      merged
    ])
    expect(merge.code).toBe(1)
    const fannedOut = JSON.parse(readFileSync(merged, 'utf8')) as RunResult
    expect(outcome(fannedOut)).toEqual(outcome(local.result))
    expect(outcome(local.result).jobs.map((j) => [j[1], j[2], j[3]])).toEqual([
      ['build (1)', 'success', { v: 'n1' }],
      ['build (2)', 'success', { v: 'n2' }],
      // The list of both instances' values; the shell's echo took its quotes.
      ['test', 'success', { got: '[n1,n2]' }],
      ['broken', 'failure', {}],
      ['notify', 'success', {}],
      ['deploy', 'skipped', {}]
    ])
    // What each build instance wrote in its workspace reached the job that needs them.
    expect(readFileSync(path.join(dir, 'runners', 'test', 'workspace', 'all.txt'), 'utf8')).toBe(
      'b1\nb2\n'
    )
  })
})
