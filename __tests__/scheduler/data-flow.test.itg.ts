import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import {
  BUSYBOX,
  docker,
  filesUnder,
  leftovers,
  NOTHING_LEFT,
  runYaml,
  tempDir
} from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

const image = `runs-on: {with: {image: ${BUSYBOX}}}`

describe('volumes and the workspace', () => {
  it('gives each matrix instance its own $CTR_JOB_DIR; the job downstream reads them all', async () => {
    const { result, lines } = await runYaml(`jobs:
  make:
    strategy: {matrix: {n: [1, 2, 3]}}
    ${image}
    stages:
      - {name: write, type: sh, run: 'sleep 0.2; echo "n={{ matrix.n }}" > "$CTR_JOB_DIR/result.txt"'}
  read:
    needs: [make]
    ${image}
    stages:
      - {name: all, type: sh, run: 'cd "$CTR_WORKSPACE/jobs" && for d in make-*; do echo "$d: $(cat $d/result.txt)"; done'}
`)
    expect(result.status).toBe('success')
    expect(lines.filter((l) => l.startsWith('[read] make-'))).toEqual([
      '[read] make-1: n=1',
      '[read] make-2: n=2',
      '[read] make-3: n=3'
    ])
  })

  it('creates named volumes for the run and removes them; an external one is used and kept', async () => {
    await docker.createVolume({ Name: 'ctr-test-external', Labels: { test: 'data-flow' } })
    try {
      const { result, lines, runId } = await runYaml(`volumes:
  cache:
  shared: {external: true, name: ctr-test-external}
jobs:
  write:
    runs-on:
      with:
        image: ${BUSYBOX}
        volumes:
          - {source: cache, target: /cache}
          - {source: shared, target: /shared}
    stages:
      - {name: w, type: sh, run: 'echo cached > /cache/f; echo kept > /shared/f'}
  read:
    needs: [write]
    runs-on:
      with:
        image: ${BUSYBOX}
        volumes: [{source: cache, target: /c, mode: ro}]
    stages:
      - {name: r, type: sh, run: 'cat /c/f; touch /c/g 2>/dev/null || echo read-only'}
`)
      expect(result.status).toBe('success')
      expect(lines).toEqual(expect.arrayContaining(['[read] cached', '[read] read-only']))
      expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
      const volumes = (await docker.listVolumes()).Volumes.map((v) => v.Name)
      expect(volumes).toContain('ctr-test-external')
      expect(volumes).not.toContain(`ctr-pipeline-${runId}-cache`)
    } finally {
      await docker.getVolume('ctr-test-external').remove()
    }
  })

  it('refuses to start when an external volume does not exist, naming it', async () => {
    await expect(
      runYaml(`volumes:
  data: {external: true}
jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: data, target: /data}]}}
    stages: [{name: x, type: sh, run: "true"}]
`)
    ).rejects.toThrow(
      "volume 'data' is external, but the engine has no volume 'data' (create it with: docker volume create data)"
    )
  })
})

describe('artifacts', () => {
  it('copies paths and globs out to the artifacts folder, per instance; warns on no match', async () => {
    const dir = tempDir()
    const artifacts = path.join(dir, 'out')
    const { result, lines } = await runYaml(
      `jobs:
  build:
    strategy: {matrix: {n: [1, 2]}}
    runs-on: {with: {image: ${BUSYBOX}, working_dir: /work}}
    artifacts: [/out/**/*.csv, report.txt, /nothing/here]
    stages:
      - name: make
        type: sh
        run: |
          mkdir -p /out/sub /work
          echo "a{{ matrix.n }}" > /out/a.csv; echo b > /out/sub/b.csv; echo c > /out/c.txt
          echo "report {{ matrix.n }}" > report.txt
`,
      { dir, artifactsDir: artifacts }
    )
    expect(result.status).toBe('success')
    expect(readdirSync(artifacts).sort()).toEqual(['build-1', 'build-2'])
    expect(filesUnder(path.join(artifacts, 'build-2'))).toEqual([
      'a.csv',
      'report.txt',
      'sub/b.csv'
    ])
    expect(readFileSync(path.join(artifacts, 'build-2', 'a.csv'), 'utf8')).toBe('a2\n')
    expect(readFileSync(path.join(artifacts, 'build-1', 'report.txt'), 'utf8')).toBe('report 1\n')
    expect(result.jobs[0].artifacts).toEqual({ dir: path.join(artifacts, 'build-1'), files: 3 })
    expect(lines).toContain("[build (1)] warning: artifact '/nothing/here' matched no files")
  })

  it('copies the artifacts of a failed job too, for debugging it', async () => {
    const dir = tempDir()
    const { result } = await runYaml(
      `jobs:
  flaky:
    ${image}
    artifacts: [/tmp/debug.log]
    stages: [{name: s, type: sh, run: 'echo clue > /tmp/debug.log; exit 1'}]
`,
      { dir, artifactsDir: path.join(dir, 'a') }
    )
    expect(result.status).toBe('failure')
    expect(readFileSync(path.join(dir, 'a', 'flaky', 'debug.log'), 'utf8')).toBe('clue\n')
  })
})

describe('timeouts, retry and continue_on_error', () => {
  it('kills a stage that runs out of time, reports it, and still runs an always() stage', async () => {
    const started = Date.now()
    const { result } = await runYaml(`jobs:
  slow:
    ${image}
    stages:
      - {name: hang, type: sh, run: 'sleep 60', timeout: 1s}
      - {name: skipped, type: sh, run: 'true'}
      - {name: cleanup, type: sh, if: always(), run: 'echo cleaned'}
`)
    expect(Date.now() - started).toBeLessThan(15_000)
    const [slow] = result.jobs
    expect([slow.status, slow.timed_out, slow.error]).toEqual([
      'failure',
      false,
      "stage 'hang' failed: timed out after 1s"
    ])
    expect(slow.stages.map((s) => [s.name, s.status, s.timed_out])).toEqual([
      ['hang', 'failure', true],
      ['skipped', 'skipped', false],
      ['cleanup', 'success', false]
    ])
  })

  it('kills a job that runs out of time, with or without stages', async () => {
    const started = Date.now()
    const { result, runId } = await runYaml(`jobs:
  staged:
    # Long enough for the container to start on a loaded machine: the time counts from
    # the job's start, and a timeout before the first stage would leave no stage to check.
    timeout: 3s
    ${image}
    stages:
      - {name: hang, type: sh, run: 'sleep 60'}
      - {name: after, type: sh, run: 'true'}
  tool:
    timeout: 1500ms
    runs-on: {with: {image: ${BUSYBOX}, entrypoint: [sleep], command: ["60"]}}
`)
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(result.jobs.map((j) => [j.id, j.status, j.timed_out, j.error])).toEqual([
      ['staged', 'failure', true, 'job timed out after 3s'],
      ['tool', 'failure', true, 'job timed out after 1.5s']
    ])
    expect(result.jobs[0].stages.map((s) => [s.status, s.timed_out])).toEqual([
      ['failure', true],
      ['cancelled', false]
    ])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})

describe('artifacts folder', () => {
  it('is not created when no job declares artifacts', async () => {
    const dir = tempDir()
    await runYaml(`jobs:\n  a:\n    ${image}\n    stages: [{name: s, type: sh, run: "true"}]\n`, {
      dir
    })
    expect(existsSync(path.join(dir, 'artifacts'))).toBe(false)
  })
})
