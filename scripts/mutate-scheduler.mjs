// Mutation check of the scheduler's rules: breaks one rule at a time in src/scheduler and
// runs the scheduler's unit tests on the fake backend; each mutation must make a test
// fail. The source is restored after each one, also on Ctrl-C. `npm run mutate:scheduler`
// (about a minute a mutation).
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'

const PR = 'src/scheduler/pipeline-runner.ts'
const JR = 'src/scheduler/job-runner.ts'
const SR = 'src/scheduler/stage-runner.ts'
const JS = 'src/scheduler/job-scheduling.ts'
const MUTATIONS = [
  [
    'DAG: needs ignored',
    JS,
    'job.job.needs.filter((n) => outcomes.has(n))',
    'job.job.needs.filter(() => false)'
  ],
  [
    'max_parallel of a job ignored',
    JS,
    'jobSlots ? jobSlots(inRunSlot) : inRunSlot()',
    'inRunSlot()'
  ],
  ['the run limit ignored', PR, 'pLimit(maxParallel)', 'pLimit(1000)'],
  ['fail_fast does not cancel', JS, 'siblings.abort(`cancelled', 'void (`cancelled'],
  ['one retry too few', JR, 'attempt > retry.count', 'attempt >= retry.count'],
  [
    'always() blind to a failure',
    SR,
    'success: !failed, failure: failed,',
    'success: true, failure: false,'
  ],
  [
    'a stage timeout kills nothing',
    SR,
    '            killing = ctx.backend\n              .killStage(containerId)',
    '            killing = Promise.resolve()\n              .then(() => void containerId)'
  ],
  ['a job timeout never fires', JR, 'job.timeout_ms === undefined', 'true'],
  [
    'no kill on cancel',
    PR,
    "signal.addEventListener('abort', killContainers, { once: true })",
    'void killContainers'
  ],
  [
    'an exec failure after the last stage ignored',
    SR,
    "if (failure !== undefined && !this.signal.aborted && this.result.status !== 'failure')",
    'if (false)'
  ],
  [
    'a retry does not wait its delay',
    JR,
    'await sleep(retry.delay_ms, undefined, { signal: ctx.signal })',
    'await sleep(0, undefined, { signal: ctx.signal })'
  ],
  [
    'continue_on_error ignored',
    SR,
    "if (!stage.continue_on_error && this.result.status !== 'failure') {",
    "if (this.result.status !== 'failure') {"
  ],
  [
    'a false if: runs the job',
    JS,
    '    } else if (!condition) {\n',
    '    } else if (condition === undefined) {\n'
  ],
  [
    'no container made ready ahead',
    'src/scheduler/warm-containers.ts',
    '    if (this.signal.aborted) return\n    let ahead = 0',
    '    if (this.signal.aborted || this.lookahead >= 0) return\n    let ahead = 0'
  ],
  [
    'no sweep',
    PR,
    '      else await removeRun(backend, runId, reporter)',
    '      else void removeRun'
  ]
]

let restore
process.on('SIGINT', () => {
  restore?.()
  process.exit(130)
})
// `node scripts/mutate-scheduler.mjs NAME...` runs only the mutations named.
const only = process.argv.slice(2)
let survived = 0
for (const [name, file, from, to] of MUTATIONS.filter(([n]) => !only.length || only.includes(n))) {
  const original = readFileSync(file, 'utf8')
  if (!original.includes(from)) {
    console.error(`${name}: '${from}' is no longer in ${file}: update this script`)
    process.exit(2)
  }
  restore = () => writeFileSync(file, original)
  writeFileSync(file, original.replace(from, to))
  try {
    const run = spawnSync(
      'npx',
      [
        'jest',
        '--selectProjects',
        'unit',
        '__tests__/scheduler/scheduler-rules.test.ts',
        '__tests__/scheduler/scheduler-flow.test.ts'
      ],
      { env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules' }, encoding: 'utf8' }
    )
    const caught = run.status !== 0
    if (!caught) survived++
    console.log(`${caught ? 'caught  ' : 'SURVIVED'} ${name}`)
  } finally {
    restore()
    restore = undefined
  }
}
console.log(survived === 0 ? 'every mutation was caught' : `${survived} mutation(s) survived`)
process.exit(survived === 0 ? 0 : 1)
