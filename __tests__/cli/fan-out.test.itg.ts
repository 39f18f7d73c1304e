import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { preparePlan } from '../../src/app/prepare-plan.js'
import type { RunResult } from '../../src/scheduler/run-result.js'
import { loadPipelineFile } from '../../src/pipeline/load-pipeline.js'
import { leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import { FAN_PIPELINE, FAN_RESULT, outcome } from '../helpers/fan-out-pipeline.js'
import { CLI, runNode } from '../helpers/processes.js'

describe('run --instance and results merge: a pipeline fanned out over separate processes', () => {
  afterAll(async () => {
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('gives, merged, the result of one local run', async () => {
    const local = await runYaml(FAN_PIPELINE, { params: { greeting: 'hello' } })
    const dir = tempDir()
    const file = path.join(dir, 'pipeline.yml')
    writeFileSync(file, FAN_PIPELINE)
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
          '--param',
          'greeting=hello',
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
      merged,
      '--param',
      'greeting=hello'
    ])
    expect(merge.code).toBe(1)
    const fannedOut = JSON.parse(readFileSync(merged, 'utf8')) as RunResult
    expect(outcome(fannedOut)).toEqual(outcome(local.result))
    expect(outcome(local.result).jobs.map((j) => [j[1], j[2], j[3]])).toEqual(FAN_RESULT)
    // What each build instance wrote in its workspace reached the job that needs them.
    expect(readFileSync(path.join(dir, 'runners', 'test', 'workspace', 'all.txt'), 'utf8')).toBe(
      'b1\nb2\n'
    )
  })
})
