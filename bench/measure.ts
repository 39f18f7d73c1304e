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

/** `1234 ms` or `1.23 s`. */
export function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`
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
