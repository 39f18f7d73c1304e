import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import {
  BUSYBOX,
  docker,
  leftovers,
  NOTHING_LEFT,
  PYTHON,
  runYaml,
  tempDir
} from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

const job = (result: Awaited<ReturnType<typeof runYaml>>['result'], id: string) =>
  result.jobs.find((j) => j.id === id)!

describe('runPipeline on the real engine', () => {
  it('runs the quick start example: a py stage over a read-only mount hands an output to a bash stage', async () => {
    const example = path.resolve(import.meta.dirname, '../../examples')
    const yaml = readFileSync(path.join(example, 'quickstart.yml'), 'utf8')
    const { result, lines, runId } = await runYaml(yaml, { dir: example })
    expect(result.status).toBe('success')
    expect(job(result, 'prep').outputs).toEqual({ rows: '5', units: '36' })
    expect(lines).toContain('[report] prep counted 5 rows (36 units)')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it("runs seed 001's Basic Configuration (csv instead of pandas) and reports processed_rows", async () => {
    const dir = tempDir()
    const data = path.join(dir, 'host-data')
    mkdirSync(data)
    writeFileSync(path.join(data, 'input.csv'), 'category,value\na,1\nb,2\na,3\n')
    const seed = readFileSync(
      path.join(import.meta.dirname, '../fixtures/seed-001/basic-configuration.yml'),
      'utf8'
    )
      .replace('ubuntu:20.04', PYTHON)
      .replace('source: "/host/data"', `source: "${data}"`)
      .replace(
        /import pandas as pd[\s\S]*?# Update context\n/,
        [
          'import csv, os',
          "          data = list(csv.DictReader(open('/container/data/input.csv')))",
          "          os.makedirs('/container/output', exist_ok=True)",
          '          # Update context\n'
        ].join('\n')
      )
    const withOutputs = `${seed}    outputs:\n      processed_rows: "{{ stages.process-data.outputs.processed_rows }}"\n`
    const { result } = await runYaml(withOutputs, { dir })
    expect(result.status).toBe('success')
    expect(job(result, 'data-processing').outputs).toEqual({ processed_rows: '3' })
    expect(job(result, 'data-processing').stages.map((s) => s.status)).toEqual([
      'success',
      'success',
      'success'
    ])
  })

  it('applies the memory and CPU limits: in the inspect data and inside the container', async () => {
    const { result, runId } = await runYaml(
      `jobs:
  limited:
    runs-on:
      with:
        image: ${BUSYBOX}
        resources: {memory: 64m, cpu: "0.5"}
    stages:
      - name: read
        type: sh
        run: echo "limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" >> "$CTR_OUTPUT"
`,
      { keep: true }
    )
    try {
      expect(result.status).toBe('success')
      expect(job(result, 'limited').stages[0].outputs).toEqual({ limit: String(64 * 1024 * 1024) })
      const [summary] = await docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`ctr-pipeline.run-id=${runId}`] })
      })
      const inspect = await docker.getContainer(summary.Id).inspect()
      expect(inspect.HostConfig.Memory).toBe(64 * 1024 * 1024)
      expect(inspect.HostConfig.NanoCpus).toBe(5e8)
      expect(inspect.Config.Labels).toMatchObject({
        'ctr-pipeline.managed': 'true',
        'ctr-pipeline.run-id': runId,
        'ctr-pipeline.job': 'limited'
      })
    } finally {
      await new DockerBackend(docker).sweep(runId)
    }
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('refuses writes to a read-only mount, fails the job, skips its later stages and its dependants', async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'data'))
    const { result, runId } = await runYaml(
      `jobs:
  write:
    runs-on:
      with:
        image: ${BUSYBOX}
        volumes: [{source: ./data, target: /data, mode: ro}]
    stages:
      - {name: touch, type: sh, run: touch /data/new}
      - {name: after, type: sh, run: echo never}
  downstream:
    needs: [write]
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: x, type: sh, run: echo never}
  independent:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: x, type: sh, run: echo ran}
`,
      { dir }
    )
    expect(result.status).toBe('failure')
    const write = job(result, 'write')
    expect(write.status).toBe('failure')
    expect(write.exit_code).toBe(1)
    expect(write.stages.map((s) => s.status)).toEqual(['failure', 'skipped'])
    expect(existsSync(path.join(dir, 'data', 'new'))).toBe(false)
    expect(job(result, 'downstream').status).toBe('skipped')
    expect(job(result, 'independent').status).toBe('success')
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('hands files from job to job through the workspace, and outputs through needs', async () => {
    const { result, lines } = await runYaml(`jobs:
  produce:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - name: write
        type: sh
        run: |
          echo "made by produce" > "$CTR_WORKSPACE/handoff.txt"
          echo "greeting=hello" >> "$CTR_OUTPUT"
          printf 'poem<<END\\nline one\\nline two\\nEND\\n' >> "$CTR_OUTPUT"
    outputs:
      greeting: "{{ stages.write.outputs.greeting }}"
      poem: "{{ stages.write.outputs.poem }}"
  consume:
    needs: [produce]
    runs-on:
      with:
        image: ${BUSYBOX}
        user: "1000:1000"
    stages:
      - name: read
        type: sh
        run: |
          echo "content=$(cat "$CTR_WORKSPACE/handoff.txt")" >> "$CTR_OUTPUT"
          echo "greeting={{ needs.produce.outputs.greeting }} as $(id -u)" >> "$CTR_OUTPUT"
          echo "{{ needs.produce.outputs.poem }}"
    outputs:
      content: "{{ stages.read.outputs.content }}"
      greeting: "{{ stages.read.outputs.greeting }}"
`)
    expect(result.status).toBe('success')
    expect(job(result, 'produce').outputs.poem).toBe('line one\nline two')
    expect(job(result, 'consume').outputs).toEqual({
      content: 'made by produce',
      greeting: 'hello as 1000'
    })
    expect(lines).toEqual(expect.arrayContaining(['[consume] line one', '[consume] line two']))
  })

  it('runs sh, cmd, empty and py stages, falls back from bash to sh, and applies env and working_dir', async () => {
    const { result, lines } = await runYaml(
      `params:
  who: {type: str, default: world}
jobs:
  mixed:
    runs-on:
      with:
        image: ${BUSYBOX}
        working_dir: /tmp
        environment: {FROM_HOST: "\${CTR_TEST_VAR}", RUN: "{{ run_id }}"}
    stages:
      - {name: hello, type: empty, echo: "hello {{ params.who }}"}
      - name: shell
        type: bash
        env: {STAGE_VAR: stage}
        run: echo "pwd=$(pwd) host=$FROM_HOST stage=$STAGE_VAR run=$RUN"
      - {name: argv, type: cmd, args: [echo, "{{ params.who }}", "two words"]}
`,
      { env: { CTR_TEST_VAR: 'from-host' } }
    )
    expect(result.status).toBe('success')
    expect(lines).toContain('[mixed] hello world')
    expect(lines).toContain(`[mixed] pwd=/tmp host=from-host stage=stage run=${result.run_id}`)
    expect(lines).toContain('[mixed] world two words')
    expect(lines).toContain(
      '[mixed] warning: the image has no bash; running this bash stage with sh'
    )
  })

  it('runs bash stages with bash and pipefail where the image has bash', async () => {
    const { result, lines } = await runYaml(`jobs:
  strict:
    runs-on: {with: {image: ${PYTHON}}}
    stages:
      - {name: which, type: bash, run: 'echo "bash $BASH_VERSION"'}
      - {name: pipe, type: bash, run: 'false | true'}
`)
    const strict = job(result, 'strict')
    expect(strict.stages.map((s) => s.status)).toEqual(['success', 'failure'])
    expect(lines.some((l) => /^\[strict\] bash 5\./.test(l))).toBe(true)
  })

  it('streams stdout and stderr in the order they were written, and reports a py failure with its traceback', async () => {
    const { result, lines } = await runYaml(`jobs:
  py:
    runs-on: {with: {image: ${PYTHON}}}
    stages:
      - name: fail
        type: py
        run: |
          import sys, time
          # The engine reads stdout and stderr on separate pipes: writes in the same
          # instant may swap; writes apart in time keep their order.
          print("out 1", flush=True); time.sleep(0.2)
          print("err 1", file=sys.stderr, flush=True); time.sleep(0.2)
          print("out 2", flush=True); time.sleep(0.2)
          result.context.update({"partial": True})
          raise ValueError("bad row 12")
`)
    const py = job(result, 'py')
    expect(py.status).toBe('failure')
    expect(py.stages[0].exit_code).toBe(1)
    expect(py.stages[0].outputs).toEqual({ partial: 'true' })
    const logged = lines.filter((l) => l.startsWith('[py] ')).map((l) => l.slice(5))
    expect(logged.slice(logged.indexOf('out 1'), logged.indexOf('out 1') + 3)).toEqual([
      'out 1',
      'err 1',
      'out 2'
    ])
    expect(logged).toContain('ValueError: bad row 12')
    expect(logged.join('\n')).toContain('File "<stage fail>", line 8')
  })

  it("runs a job without stages with its image's command, and explains its exit code", async () => {
    const { result, lines } = await runYaml(`jobs:
  tool:
    runs-on:
      with:
        image: ${BUSYBOX}
        command: [sh, -c, "echo tool ran; exit 127"]
`)
    const tool = job(result, 'tool')
    expect(tool.status).toBe('failure')
    expect(tool.exit_code).toBe(127)
    expect(tool.error).toMatch(/^exit code 127: command not found; /)
    expect(lines).toContain('[tool] tool ran')
  })

  it('renders a command string word by word, and a list-valued expression as that many words', async () => {
    const { result, lines } = await runYaml(`params:
  word: {type: str, default: "two words"}
jobs:
  say:
    strategy: {matrix: {args: [["-a", "b c"]]}}
    runs-on:
      with:
        image: ${BUSYBOX}
        command: 'sh -c ''printf "<%s>" "$@"; echo'' argv {{ params.word }} {{ matrix.args }}'
`)
    expect(result.jobs.map((j) => [j.id, j.status])).toEqual([['say (["-a","b c"])', 'success']])
    expect(lines.filter((l) => l.includes('<'))).toEqual([
      '[say (["-a","b c"])] <two words><-a><b c>'
    ])
  })

  it('fails a job whose image does not exist with one clear line', async () => {
    const { result, runId } = await runYaml(`jobs:
  ghost:
    runs-on: {with: {image: ctr-fixtures/does-not-exist:1}}
    stages: [{name: x, type: sh, run: "true"}]
`)
    const ghost = job(result, 'ghost')
    expect(ghost.status).toBe('failure')
    expect(ghost.error).toMatch(
      /^image 'ctr-fixtures\/does-not-exist:1' is not on the engine and could not be pulled: /
    )
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})
