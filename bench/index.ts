/**
 * `npm run bench`: every benchmark in one run, then one table of every figure with its
 * baseline, ratio and target. Needs the built bundles and the fixture images
 * (`scripts/setup.sh`); `BENCH_RUNS` sets how many runs each median takes (default 3).
 * With `--json FILE`, the figures are also written there.
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

const started = Date.now()
const engine = sh('docker', ['version', '--format', '{{.Server.Version}}']).trim()
console.log(
  `ctr-pipeline benchmarks: median of ${RUNS} runs; ${cpus().length} cores, ` +
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Docker ${engine}`
)
const figures: Figure[] = []
try {
  figures.push(...planBench())
  figures.push(...(await jobsBench()))
  figures.push(...(await handoffBench()))
  figures.push(...(await logsBench()))
  figures.push(...(await actionBench()))
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
const json = process.argv.indexOf('--json')
if (json > 0) writeFileSync(process.argv[json + 1], JSON.stringify(figures, null, 2))
const missed = figures.filter((f) => !f.met).length
console.log(
  missed === 0 ? '\nevery target met' : `\n${missed} target(s) missed: see bench/RESULTS.md`
)
