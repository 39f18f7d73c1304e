/**
 * Planning cost: loading, validating and planning a pipeline of 50 jobs in a DAG, with
 * a 256-instance matrix on one job (and, as a stress case, on every job), against the
 * floor of merely parsing the same YAML. Prints medians and ratios.
 */
import { performance } from 'node:perf_hooks'
import { LineCounter, parse, parseDocument } from 'yaml'
import { planDocument } from '../src/plan/plan-document.js'
import { planPipeline } from '../src/plan/pipeline-plan.js'
import { parsePipeline } from '../src/pipeline/load-pipeline.js'
import { resolveParams } from '../src/pipeline/params.js'
import { median, report, type Figure } from './measure.js'

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

function measure(yaml: string) {
  const floor = time(() => parse(yaml)).median
  let instances = 0
  const { median: full, first } = time(() => {
    const pipeline = parsePipeline(yaml, 'bench.yml', '/repo')
    const params = resolveParams(pipeline, {})
    const plan = planPipeline(pipeline, params)
    instances = planDocument(plan, params, {}).jobs.reduce((n, j) => n + j.instances.length, 0)
  })
  return { floor, full, first, instances }
}

/** `n` jobs in a chain (each needs the one before and the third before): a generated pipeline. */
function manyJobsYaml(n: number): string {
  const lines = ['jobs:']
  for (let i = 0; i < n; i++) {
    lines.push(`  j${i}:`)
    if (i > 0) lines.push(`    needs: [j${i - 1}${i > 2 ? `, j${i - 3}` : ''}]`)
    lines.push('    runs-on: {with: {image: busybox}}')
    lines.push('    stages: [{name: a, type: sh, run: echo}]')
  }
  return `${lines.join('\n')}\n`
}

/** Validation time for n jobs, and the parser's own time on the same text (the floor). */
function validateMany(n: number): { validate: number; parse: number } {
  const yaml = manyJobsYaml(n)
  const parseOnly = () =>
    parseDocument(yaml, { uniqueKeys: false, lineCounter: new LineCounter() }).toJS()
  const start = performance.now()
  parseOnly()
  const middle = performance.now()
  parsePipeline(yaml, 'bench.yml', '/repo')
  return { parse: middle - start, validate: performance.now() - middle }
}

/**
 * Validation must grow linearly with the number of jobs: it once took 40 s for 40,000
 * (a scan of the remaining jobs at every step of ordering, a scan of a map per lookup).
 */
function manyJobsFigures(): Figure[] {
  validateMany(2_000)
  const small = validateMany(10_000)
  const large = validateMany(40_000)
  const growth = large.validate / small.validate
  return [
    {
      measure: '40,000-job chain: load + validate',
      value: `${(large.validate / 1000).toFixed(1)} s`,
      baseline: `YAML parse alone ${(large.parse / 1000).toFixed(1)} s`,
      ratio: large.validate / large.parse,
      target: '< 6x the YAML parse',
      met: large.validate / large.parse < 6
    },
    {
      measure: 'validation growth, 10,000 -> 40,000 jobs',
      value: `${growth.toFixed(2)}x (${(small.validate / 1000).toFixed(1)} s -> ${(large.validate / 1000).toFixed(1)} s)`,
      baseline: '4x (linear)',
      ratio: growth / 4,
      target: '< 5x',
      met: growth < 5
    }
  ]
}

/** Load, validate and plan: a context figure for the others, and validation at scale. */
export function planBench(): Figure[] {
  const figures = [
    ['50-job DAG, one 256-instance matrix', measure(pipelineYaml((i) => i === 25))],
    ['50-job DAG, every job a 256-instance matrix', measure(pipelineYaml(() => true))]
  ] as const
  return report(`0. planning (median of ${RUNS})`, [
    ...figures.map(([name, m]): Figure => ({
      measure: `${name} (${m.instances} instances): load + validate + plan`,
      value: `${m.full.toFixed(1)} ms (first, cold: ${m.first.toFixed(0)} ms)`,
      baseline: `yaml.parse alone ${m.floor.toFixed(1)} ms`,
      ratio: m.full / m.floor,
      target: '< 1 s',
      met: m.full < 1000
    })),
    ...manyJobsFigures()
  ])
}
