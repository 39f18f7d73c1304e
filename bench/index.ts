/**
 * `npm run bench`: every benchmark in one run, then one table of every figure with its
 * baseline, ratio and target. Needs the built bundles and the fixture images
 * (`scripts/setup.sh`); `BENCH_RUNS` sets how many runs each median takes (default 3).
 * With `--json FILE`, the figures are also written there; `--only jobs,logs` runs some
 * of the benchmarks (plan, jobs, handoff, logs, action, swarm, report: swarm brings the
 * three-node lab of scripts/swarm-lab.sh up and down; report drives headless Chromium).
 */
import { rmSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { actionBench } from './action.bench.js'
import { closeConnections } from './engine-api.js'
import { handoffBench } from './handoff.bench.js'
import { jobsBench } from './jobs.bench.js'
import { logsBench } from './logs.bench.js'
import { RUNS, sh, workDir, type Figure } from './measure.js'
import { planBench } from './plan.bench.js'
import { reportBench } from './report.bench.js'
import { swarmBench } from './swarm.bench.js'

const started = Date.now()
const engine = sh('docker', ['version', '--format', '{{.Server.Version}}']).trim()
console.log(
  `ctr-pipeline benchmarks: median of ${RUNS} runs; ${cpus().length} cores, ` +
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Docker ${engine}`
)
const benches: Record<string, () => Figure[] | Promise<Figure[]>> = {
  plan: planBench,
  jobs: jobsBench,
  handoff: handoffBench,
  logs: logsBench,
  action: actionBench,
  swarm: swarmBench,
  report: reportBench
}
const only = argument('--only')?.split(',')
const unknown = only?.filter((name) => !(name in benches)) ?? []
if (unknown.length > 0) {
  console.error(`--only: no benchmark ${unknown.join(', ')} (${Object.keys(benches).join(', ')})`)
  process.exit(2)
}
const figures: Figure[] = []
try {
  for (const [name, bench] of Object.entries(benches)) {
    if (!only || only.includes(name)) figures.push(...(await bench()))
  }
} finally {
  closeConnections()
  rmSync(workDir(), { recursive: true, force: true })
}

console.log(`\n## All figures (${((Date.now() - started) / 1000).toFixed(0)} s)`)
console.log('| measure | figure | baseline | ratio | target | |')
console.log('| --- | ---: | --- | ---: | --- | --- |')
for (const f of figures) {
  const ratio = f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}x`
  console.log(
    `| ${f.measure} | ${f.value} | ${f.baseline} | ${ratio} | ${f.target} | ${f.met ? 'met' : '**missed**'} |`
  )
}
const json = argument('--json')
if (json) writeFileSync(json, JSON.stringify(figures, null, 2))
const missed = figures.filter((f) => !f.met).length
console.log(
  missed === 0 ? '\nevery target met' : `\n${missed} target(s) missed: see bench/RESULTS.md`
)

/** The value given after a flag, if the flag is there. */
function argument(flag: string): string | undefined {
  const at = process.argv.indexOf(flag)
  return at > 0 ? process.argv[at + 1] : undefined
}
