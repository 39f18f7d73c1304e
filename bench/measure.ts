import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

/** How many times each measure runs; the figure is the median. */
export const RUNS = Number(process.env.BENCH_RUNS ?? 3)
export const IMAGE = 'ctr-fixtures/busybox:latest'
/** The CLI measured: this tree's bundle, or another's (`BENCH_CLI`, for a before and after). */
export const CLI =
  process.env.BENCH_CLI ?? path.resolve(import.meta.dirname, '../dist/cli/index.js')
export const ACTION = path.resolve(import.meta.dirname, '../dist/action/index.js')

/** One figure of the benchmark, with what it is compared to and the target it has. */
export interface Figure {
  measure: string
  value: string
  baseline: string
  /** value / baseline, when the target is a ratio. */
  ratio?: number
  target: string
  met: boolean
}

/** The middle value of some samples. */
export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Milliseconds one run of `fn` takes. */
export async function timed(fn: () => unknown): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

/**
 * Medians of several measures taken in turn, `runs` times over: a subject and its
 * baselines share whatever state the machine is in during each round.
 */
export async function interleaved<K extends string>(
  runs: number,
  measures: Record<K, () => unknown>
): Promise<Record<K, number>> {
  const samples = Object.fromEntries(Object.keys(measures).map((k) => [k, [] as number[]]))
  for (let i = 0; i < runs; i++) {
    for (const [key, fn] of Object.entries<() => unknown>(measures)) {
      samples[key].push(await timed(fn))
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [k, median(v as number[])])
  ) as Record<K, number>
}

/** Runs a command to completion, failing the benchmark loudly if it fails. */
export function sh(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}) {
  return execFileSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    env: options.env ?? process.env
  })
}

/**
 * Runs a command with its stdout read and thrown away (counted), and the peak resident
 * memory and CPU seconds (user + system) of the process as GNU time reports them.
 */
export function measured(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env
): Promise<{ ms: number; stdoutBytes: number; peakRssMb: number; cpuSeconds: number }> {
  const rssFile = path.join(workDir(), `rss-${process.hrtime.bigint()}`)
  const started = performance.now()
  const child = spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, command, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env
  })
  let stdoutBytes = 0
  child.stdout.on('data', (chunk: Buffer) => (stdoutBytes += chunk.length))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}`))
      const [kb, user, system] = readFileSync(rssFile, 'utf8')
        .trim()
        .split('\n')
        .at(-1)!
        .split(' ')
        .map(Number)
      resolve({ ms, stdoutBytes, peakRssMb: kb / 1024, cpuSeconds: user + system })
    })
  })
}

/**
 * CPU seconds the engine's own processes (dockerd, containerd, and the shims living at
 * both ends of the call: a shim that ends in between is not counted) have used so far.
 */
export function engineCpuSeconds(): number {
  const tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))
  let ticks = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const name = /\(([^)]*)\)/.exec(stat)?.[1] ?? ''
      if (!/^(dockerd|containerd)/.test(name)) continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks / tick
}

let work: string | undefined
/** The benchmark's scratch folder (one per process). */
export function workDir(): string {
  work ??= mkdtempSync(path.join(tmpdir(), 'ctr-bench-'))
  return work
}

/** Writes a pipeline file into the scratch folder and returns its path. */
export function pipelineFile(name: string, yaml: string): string {
  const file = path.join(workDir(), `${name}.yml`)
  writeFileSync(file, yaml)
  return file
}

/** A job of one `sh` stage on the busybox fixture, as YAML lines under `jobs:`. */
export function shJob(id: string, run: string, extra: string[] = []): string[] {
  return [
    `  ${id}:`,
    ...extra.map((line) => `    ${line}`),
    `    runs-on: {with: {image: ${IMAGE}}}`,
    `    stages: [{name: s, type: sh, run: '${run}'}]`
  ]
}

/** Runs a pipeline with the built CLI; returns its result document. */
export function runPipeline(
  file: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv } = {}
): RunDocument {
  const result = path.join(workDir(), 'result.json')
  sh('node', [CLI, 'run', file, '--result', result, ...args], options)
  return JSON.parse(readFileSync(result, 'utf8')) as RunDocument
}

/** What the benchmarks read of a result document. */
export interface RunDocument {
  status: string
  duration_ms: number
  jobs: Array<{ duration_ms: number; stages: Array<{ duration_ms: number }> }>
}

/**
 * `1234 ms` or `1.23 s`. A negative duration is refused: it can only be a difference of
 * two noisy runs, which is not a measurement (see pairedDifference).
 */
export function ms(value: number): string {
  if (!(value >= 0)) throw new Error(`bench: a duration of ${value} ms is not a measurement`)
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`
}

/** What a subject costs over a baseline, from runs paired in turn (pairedDifference). */
export interface PairedDifference {
  /** The median of the pairs' differences, when every pair put the subject above its baseline. */
  resolved?: number
  /** `min..max` of the pairs' differences, for the reader to judge the spread. */
  spread: string
  subject: number
  baseline: number
}

/**
 * Runs `subject` and `baseline` in turn, `runs` times (which goes first alternates), and
 * takes each pair's difference: both of a pair see the machine as it is then. The cost is resolved only when every
 * pair's difference is above zero; otherwise it is within the runs' noise, and no
 * figure is made up from it.
 */
export async function pairedDifference(
  runs: number,
  subject: () => unknown,
  baseline: () => unknown
): Promise<PairedDifference> {
  const pairs: Array<[number, number]> = []
  for (let i = 0; i < runs; i++) {
    // Every other pair runs the baseline first: what the first run of a pair pays (a
    // cold cache, a node's first task) falls on both alike.
    const first = i % 2 === 0 ? subject : baseline
    const firstMs = await timed(first)
    const secondMs = await timed(first === subject ? baseline : subject)
    pairs.push(first === subject ? [firstMs, secondMs] : [secondMs, firstMs])
  }
  const differences = pairs.map(([s, b]) => s - b).sort((a, b) => a - b)
  const signed = (v: number) => `${v < 0 ? '-' : '+'}${ms(Math.abs(v))}`
  return {
    resolved: differences[0] > 0 ? median(differences) : undefined,
    spread: `${signed(differences[0])}..${signed(differences.at(-1)!)} over ${runs} pairs`,
    subject: median(pairs.map(([s]) => s)),
    baseline: median(pairs.map(([, b]) => b))
  }
}

/** A ratio figure: met when at most `limit`. */
export function ratioFigure(
  measure: string,
  value: number,
  baseline: { label: string; ms: number },
  limit: number
): Figure {
  const ratio = value / baseline.ms
  return {
    measure,
    value: ms(value),
    baseline: `${baseline.label} ${ms(baseline.ms)}`,
    ratio,
    target: `<= ${limit}x`,
    met: ratio <= limit
  }
}

/** Prints figures as they are measured: a line each, under the benchmark's name. */
export function report(title: string, figures: Figure[]): Figure[] {
  console.log(`\n## ${title}`)
  for (const f of figures) {
    const ratio = f.ratio === undefined ? '' : `  ratio ${f.ratio.toFixed(2)}x`
    console.log(
      `  ${f.measure}: ${f.value}  (baseline: ${f.baseline})${ratio}  target ${f.target}: ${f.met ? 'met' : 'MISSED'}`
    )
  }
  return figures
}
