import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import type { IJob } from 'kubernetes-models/batch/v1/Job'
import type { IContainer } from 'kubernetes-models/v1/Container'
import { exportOptions } from '../../src/app/export-options.js'
import { preparePlan } from '../../src/app/prepare-plan.js'
import { exportPipeline } from '../../src/export/export-pipeline.js'
import type { KubernetesObject } from '../../src/export/k8s/k8s-jobs.js'
import { loadPipelineFile } from '../../src/pipeline/load-pipeline.js'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import { readFile } from '../helpers/mini-argo.js'

/**
 * A `kubectl` for the wait container: `kubectl get job NAME -o jsonpath=...` prints the
 * Job's true conditions from /states/NAME, as the API would, or fails while there is none.
 */
const KUBECTL = `#!/bin/sh
[ -f "/states/$3" ] || { echo "Error from server (NotFound): jobs.batch \\"$3\\" not found" >&2; exit 1; }
cat "/states/$3"
`

interface Played {
  /** The main container's exit status, or the wait container's when it stopped the Job. */
  status: number
  outputs: Record<string, string>
  logs: string
}

/** The text of the engine's multiplexed log stream: each frame's 8-byte header taken off. */
function frames(stream: Buffer): string {
  const parts: Buffer[] = []
  for (let at = 0; at + 8 <= stream.length; at += 8 + stream.readUInt32BE(at + 4))
    parts.push(stream.subarray(at + 8, at + 8 + stream.readUInt32BE(at + 4)))
  return Buffer.concat(parts).toString('utf8')
}

/** A container of a Job's pod on the engine: its image, command, environment and volumes. */
async function runContainer(
  c: IContainer,
  binds: Map<string, string>,
  labels: Record<string, string>,
  extraBinds: string[] = []
) {
  const container = await docker.createContainer({
    Image: c.image,
    Entrypoint: c.command,
    Cmd: c.args,
    WorkingDir: c.workingDir,
    Env: (c.env ?? []).map((e) => `${e.name}=${e.value ?? ''}`),
    Labels: labels,
    HostConfig: {
      Binds: [
        ...(c.volumeMounts ?? []).map(
          (m) => `${binds.get(m.name)!}:${m.mountPath}${m.readOnly ? ':ro' : ''}`
        ),
        ...extraBinds
      ]
    }
  })
  await container.start()
  const { StatusCode } = (await container.wait()) as { StatusCode: number }
  const logs = frames(await container.logs({ stdout: true, stderr: true }))
  return { container, status: StatusCode, logs }
}

/**
 * Plays a `--to k8s` export on the engine as a cluster would run it: each Job in the
 * order applied, its wait container first (the exported script, with a `kubectl` that
 * reads the Jobs' conditions), then its main container with its volumes (the workspace
 * claim one Docker volume, the ConfigMap a folder of its files, hostPath volumes as
 * binds). Each Job's condition is written for those that wait on it. Everything is
 * labelled and removed.
 */
async function playJobs(objects: KubernetesObject[]): Promise<Record<string, Played>> {
  const labels = { 'ctr-pipeline.managed': 'true', 'ctr-pipeline.run-id': 'k8s-play' }
  const dir = tempDir('ctr-k8s-play-')
  const states = path.join(dir, 'states')
  mkdirSync(states)
  writeFileSync(path.join(dir, 'kubectl'), KUBECTL, { mode: 0o755 })
  const claims = new Map<string, string>()
  const results: Record<string, Played> = {}
  try {
    for (const object of objects) {
      if (object.kind === 'PersistentVolumeClaim') {
        const volume = await docker.createVolume({ Labels: labels })
        claims.set(object.metadata!.name!, volume.name)
      }
      if (object.kind === 'ConfigMap')
        for (const [key, text] of Object.entries(object.data ?? {})) {
          mkdirSync(path.join(dir, object.metadata!.name!), { recursive: true })
          writeFileSync(path.join(dir, object.metadata!.name!, key), text)
        }
      if (object.kind === 'Job') results[object.metadata!.name!] = await playJob(object)
    }
    return results
  } finally {
    for (const c of await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: ['ctr-pipeline.run-id=k8s-play'] })
    }))
      await docker.getContainer(c.Id).remove({ force: true })
    for (const volume of claims.values()) await docker.getVolume(volume).remove()
  }

  async function playJob(job: IJob): Promise<Played> {
    const pod = job.spec!.template.spec!
    const binds = new Map(
      (pod.volumes ?? []).map((v) => {
        if (v.persistentVolumeClaim) return [v.name, claims.get(v.persistentVolumeClaim.claimName)!]
        if (v.configMap) return [v.name, path.join(dir, v.configMap.name!)]
        if (v.hostPath) return [v.name, v.hostPath.path]
        throw new Error(`k8s-play: volume ${v.name} is of a kind it does not play`)
      })
    )
    const name = job.metadata!.name!
    let played: Played | undefined
    for (const init of pod.initContainers ?? []) {
      if (init.restartPolicy === 'Always') throw new Error('k8s-play: sidecars are not played')
      const wait = await runContainer(
        { ...init, env: [{ name: 'PATH', value: '/shim:/bin' }] },
        binds,
        labels,
        [`${dir}/kubectl:/shim/kubectl:ro`, `${states}:/states:ro`]
      )
      await wait.container.remove({ force: true })
      if (wait.status !== 0) played = { status: wait.status, outputs: {}, logs: wait.logs }
    }
    if (!played && job.spec!.completionMode === 'Indexed') {
      // Each index in a pod of its own, `parallelism` at a time, as the Job controller runs them.
      const logs: string[] = []
      let status = 0
      const { completions = 1, parallelism = 1 } = job.spec!
      for (let wave = 0; wave < completions; wave += parallelism) {
        const pods = await Promise.all(
          Array.from({ length: Math.min(parallelism, completions - wave) }, async (_, i) => {
            const c = pod.containers[0]
            const env = [
              ...(c.env ?? []),
              { name: 'JOB_COMPLETION_INDEX', value: String(wave + i) }
            ]
            const run = await runContainer({ ...c, env }, binds, labels)
            await run.container.remove({ force: true })
            return run
          })
        )
        for (const p of pods) {
          logs.push(p.logs)
          if (status === 0) status = p.status
        }
      }
      played = { status, outputs: {}, logs: logs.join('') }
    }
    if (!played) {
      const main = await runContainer(pod.containers[0], binds, labels)
      const outputs: Record<string, string> = {}
      for (const key of ['rows', 'units', 'report'])
        await readFile(main.container, `/ctr/outputs/${name.replace(/^[^-]+-/, '')}/${key}`)
          .then((text) => (outputs[key] = text))
          .catch(() => undefined)
      await main.container.remove({ force: true })
      played = { status: main.status, outputs, logs: main.logs }
    }
    writeFileSync(
      path.join(states, name),
      played.status === 0 ? 'Complete' : 'FailureTarget Failed'
    )
    return played
  }
}

async function exported(dir: string, set: string[], map: string[]): Promise<KubernetesObject[]> {
  const pipeline = await loadPipelineFile(path.join(dir, 'pipeline.yml'))
  const { params, plan } = preparePlan(pipeline, {})
  const options = exportOptions({ set, map, drop: [] }, pipeline)
  return parseAllDocuments(exportPipeline('k8s', plan, params, options)).map(
    (d) => d.toJS() as KubernetesObject
  )
}

describe('export --to k8s, played on the engine', () => {
  afterAll(async () => {
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('runs the quick start as locally: Jobs in order, outputs handed on through the workspace', async () => {
    const dir = tempDir()
    cpSync('examples/pipeline.yml', path.join(dir, 'pipeline.yml'))
    cpSync('examples/data', path.join(dir, 'data'), { recursive: true })
    const local = await runYaml(readFileSync(path.join(dir, 'pipeline.yml'), 'utf8'), { dir })
    const objects = await exported(dir, [`wait_image=${BUSYBOX}`], [`./data=hostPath:${dir}/data`])
    const played = await playJobs(objects)
    expect(local.result.jobs.map((j) => [j.job, j.status, j.outputs])).toEqual([
      ['prep', 'success', { rows: '5', units: '36' }],
      ['report', 'success', { report: '/ctr/workspace/report.txt' }]
    ])
    expect(Object.entries(played).map(([name, p]) => [name, p.status, p.outputs])).toEqual([
      ['quickstart-prep', 0, { rows: '5', units: '36' }],
      ['quickstart-report', 0, { report: '/ctr/workspace/report.txt' }]
    ])
  })

  it('fails a Job whose need failed at its wait container, with the reason, as locally it is skipped', async () => {
    const dir = tempDir()
    const text = `name: chain\njobs:\n  a:\n    runs-on: {type: container, with: {image: ${BUSYBOX}}}\n    stages: [{name: s, type: sh, run: 'exit 4'}]\n  b:\n    needs: [a]\n    runs-on: {type: container, with: {image: ${BUSYBOX}}}\n    stages: [{name: s, type: sh, run: 'echo ran'}]\n`
    writeFileSync(path.join(dir, 'pipeline.yml'), text)
    const local = await runYaml(text, { dir })
    expect(local.result.jobs.map((j) => [j.job, j.status])).toEqual([
      ['a', 'failure'],
      ['b', 'skipped']
    ])
    const played = await playJobs(await exported(dir, [`wait_image=${BUSYBOX}`], []))
    expect(Object.entries(played).map(([name, p]) => [name, p.status, p.logs])).toEqual([
      ['chain-a', 4, ''],
      [
        'chain-b',
        3,
        'ctr-pipeline: Job chain-a, which this job needs, failed: this job does not run\n'
      ]
    ])
  })

  it('runs a matrix with max_parallel as one Indexed Job: each index its instance, with its environment', async () => {
    const dir = tempDir()
    const text = `name: idx\njobs:\n  test:\n    strategy: {matrix: {py: ['3.10', '3.11', '3.12']}, max_parallel: 2}\n    runs-on: {type: container, with: {image: ${BUSYBOX}, environment: {PY: '{{ matrix.py }}'}}}\n    stages: [{name: s, type: sh, run: 'echo "{{ matrix.py }} sees $PY in $CTR_JOB_DIR"'}]\n`
    writeFileSync(path.join(dir, 'pipeline.yml'), text)
    const local = await runYaml(text, { dir })
    const played = await playJobs(await exported(dir, [], []))
    const localLines = local.lines
      .filter((l) => l.includes(' sees '))
      .map((l) => l.replace(/^\[[^\]]+\] /, ''))
    expect(localLines.sort()).toEqual([
      '3.10 sees 3.10 in /ctr/workspace/jobs/test-1',
      '3.11 sees 3.11 in /ctr/workspace/jobs/test-2',
      '3.12 sees 3.12 in /ctr/workspace/jobs/test-3'
    ])
    expect(Object.entries(played).map(([name, p]) => [name, p.status, p.logs])).toEqual([
      [
        'idx-test',
        0,
        localLines
          .sort()
          .map((l) => `${l}\n`)
          .join('')
      ]
    ])
  })
})
