import { cpSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { exportOptions } from '../../src/app/export-options.js'
import { preparePlan } from '../../src/app/prepare-plan.js'
import type { BatchDocument } from '../../src/export/batch/batch-jobs.js'
import { exportPipeline } from '../../src/export/export-pipeline.js'
import { loadPipelineFile } from '../../src/pipeline/load-pipeline.js'
import { docker, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import { readFile } from '../helpers/mini-argo.js'

/**
 * Plays a Batch export on the engine as Batch would run it: each job in submission order,
 * after those it depends on, its definition's command, environment and volumes (the EFS
 * workspace as one Docker volume, host volumes as binds); returns each job's exit status
 * and the outputs it left on the workspace. Everything is labelled and removed.
 */
async function playBatch(document: BatchDocument) {
  const labels = { 'ctr-pipeline.managed': 'true', 'ctr-pipeline.run-id': 'batch-play' }
  const volume = await docker.createVolume({ Labels: labels })
  const results: Record<
    string,
    { status: number; outputs: Record<string, string>; report?: string }
  > = {}
  try {
    for (const job of document.jobs) {
      if ((job.dependsOn ?? []).some((d) => results[d.jobId ?? '']?.status !== 0)) continue
      const definition = document.jobDefinitions.find(
        (d) => d.jobDefinitionName === job.jobDefinition
      )!
      const c = definition.containerProperties!
      const volumes = new Map((c.volumes ?? []).map((v) => [v.name, v]))
      const binds = (c.mountPoints ?? []).map((m) => {
        const v = volumes.get(m.sourceVolume!)!
        const source = v.efsVolumeConfiguration ? volume.name : v.host!.sourcePath!
        return `${source}:${m.containerPath}${m.readOnly ? ':ro' : ''}`
      })
      const container = await docker.createContainer({
        Image: c.image,
        Cmd: c.command,
        Env: (c.environment ?? []).map((e) => `${e.name}=${e.value}`),
        Labels: labels,
        HostConfig: { Binds: binds }
      })
      await container.start()
      const { StatusCode } = (await container.wait()) as { StatusCode: number }
      const outputs: Record<string, string> = {}
      for (const key of ['rows', 'units', 'report'])
        await readFile(container, `/ctr/outputs/${job.jobName}/${key}`)
          .then((text) => (outputs[key] = text))
          .catch(() => undefined)
      const report = await readFile(container, '/ctr/workspace/report.txt').catch(() => undefined)
      await container.remove({ force: true })
      results[job.jobName] = { status: StatusCode, outputs, ...(report ? { report } : {}) }
    }
    return results
  } finally {
    await docker.getVolume(volume.name).remove()
  }
}

describe('export --to batch, played on the engine', () => {
  afterAll(async () => {
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('runs the quick start as locally: outputs handed on through the workspace', async () => {
    const dir = tempDir()
    cpSync('examples/pipeline.yml', path.join(dir, 'pipeline.yml'))
    cpSync('examples/data', path.join(dir, 'data'), { recursive: true })
    const local = await runYaml(readFileSync(path.join(dir, 'pipeline.yml'), 'utf8'), { dir })
    const pipeline = await loadPipelineFile(path.join(dir, 'pipeline.yml'))
    const { params, plan } = preparePlan(pipeline, {})
    const options = exportOptions(
      { set: ['efs=fs-1'], map: [`./data=hostPath:${dir}/data`], drop: [] },
      pipeline
    )
    const document = JSON.parse(exportPipeline('batch', plan, params, options)) as BatchDocument
    const played = await playBatch(document)
    expect(local.result.jobs.map((j) => [j.job, j.status, j.outputs])).toEqual([
      ['prep', 'success', { rows: '5', units: '36' }],
      ['report', 'success', { report: '/ctr/workspace/report.txt' }]
    ])
    expect(played).toEqual({
      prep: { status: 0, outputs: { rows: '5', units: '36' } },
      // What report wrote holds prep's output, read from the workspace as its stage began.
      report: { status: 0, outputs: { report: '/ctr/workspace/report.txt' }, report: 'rows=5\n' }
    })
  })
})
