/**
 * Planning cost: loading, validating and planning a pipeline of 50 jobs in a DAG, with
 * a 256-instance matrix on one job (and, as a stress case, on every job), against the
 * floor of merely parsing the same YAML. Prints medians and ratios.
 */
import { performance } from 'node:perf_hooks'
import { parse } from 'yaml'
import { planDocument } from '../src/plan/plan-document.js'
import { planPipeline } from '../src/plan/pipeline-plan.js'
import { parsePipeline } from '../src/spec/load-pipeline.js'
import { resolveParams } from '../src/spec/params.js'

const RUNS = 15

/** 50 jobs; job i needs up to three of the jobs before it, so the DAG has depth and width. */
function pipelineYaml(matrixJobs: (i: number) => boolean): string {
  const lines = ['params:', '  tag: {default: v1}', 'jobs:']
  for (let i = 0; i < 50; i++) {
    const needs = [i - 1, i - 3, i - 7].filter((n) => n >= 0 && (n * 7 + i) % 3 !== 0)
    lines.push(`  job${i}:`)
    if (needs.length) lines.push(`    needs: [${needs.map((n) => `job${n}`).join(', ')}]`)
    if (matrixJobs(i)) {
      lines.push('    strategy:', '      matrix:')
      lines.push(`        os: [${Array.from({ length: 16 }, (_, k) => `os${k}`).join(', ')}]`)
      lines.push(`        py: [${Array.from({ length: 16 }, (_, k) => `"3.${k}"`).join(', ')}]`)
      lines.push('      max_parallel: 8')
    }
    lines.push('    runs-on:', '      with:')
    lines.push(`        image: "${matrixJobs(i) ? '{{ matrix.os }}:{{ matrix.py }}' : 'busybox'}"`)
    lines.push('        environment: {TAG: "{{ params.tag }}", UP: "{{ job.instance }}"}')
    lines.push('        resources: {memory: 512m, cpu: "1.5"}')
    lines.push('        volumes: [{source: ./data, target: /data, mode: ro}]')
    lines.push('    stages:')
    lines.push('      - {name: a, type: sh, run: \'echo "x=1" >> "$CTR_OUTPUT"\'}')
    lines.push('      - {name: b, type: sh, run: "echo {{ stages.a.outputs.x }}"}')
    lines.push('    outputs: {x: "{{ stages.a.outputs.x }}"}')
  }
  return `${lines.join('\n')}\n`
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Median and first (cold: compiles the schema, warms the JIT) of RUNS timings, in ms. */
function time(fn: () => unknown): { median: number; first: number } {
  const samples: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    fn()
    samples.push(performance.now() - start)
  }
  return { median: median(samples), first: samples[0] }
}

function measure(name: string, yaml: string) {
  const floor = time(() => parse(yaml)).median
  let instances = 0
  const { median: full, first } = time(() => {
    const pipeline = parsePipeline(yaml, 'bench.yml', '/repo')
    const params = resolveParams(pipeline, {})
    const plan = planPipeline(pipeline, params)
    instances = planDocument(plan, params, {}).jobs.reduce((n, j) => n + j.instances.length, 0)
  })
  const rows = [
    [name, `${instances} instances`],
    ['  yaml.parse alone (baseline)', `${floor.toFixed(1)} ms`],
    ['  load + validate + plan + container options', `${full.toFixed(1)} ms`],
    ['  ratio to baseline', `${(full / floor).toFixed(1)}x`],
    ['  first run (cold)', `${first.toFixed(1)} ms`]
  ]
  for (const [label, value] of rows) console.log(`${label.padEnd(48)} ${value}`)
  return full
}

console.log(`plan benchmark: median of ${RUNS} runs, Node ${process.version}`)
const one = measure(
  '50-job DAG, one 256-instance matrix',
  pipelineYaml((i) => i === 25)
)
const all = measure(
  '50-job DAG, every job a 256-instance matrix',
  pipelineYaml(() => true)
)
const target = 1000
console.log(
  `target: under ${target} ms for the first case: ${one < target ? 'met' : 'MISSED'} (${(one / target).toFixed(3)} of it); stress case ${all.toFixed(0)} ms`
)
