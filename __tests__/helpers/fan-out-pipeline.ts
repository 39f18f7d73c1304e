import type { RunResult } from '../../src/scheduler/run-result.js'
import { BUSYBOX } from './engine.js'

const job = (body: string) => `    runs-on: {type: container, with: {image: ${BUSYBOX}}}\n${body}`

/** A matrix writing the workspace and outputs, a job reading both, a failure and what follows it. */
export const FAN_PIPELINE = `name: fan
params:
  greeting: {type: str, default: hi}
jobs:
  build:
    strategy: {matrix: {n: [1, 2]}}
${job(`    stages:
      - {name: s, type: sh, run: 'echo b{{ matrix.n }} > "$CTR_WORKSPACE/b{{ matrix.n }}.txt"; echo v={{ params.greeting }}{{ matrix.n }} >> "$CTR_OUTPUT"'}
    outputs: {v: '{{ stages.s.outputs.v }}'}
`)}  test:
    needs: [build]
${job(`    stages:
      - {name: s, type: sh, run: 'cat "$CTR_WORKSPACE/b1.txt" "$CTR_WORKSPACE/b2.txt" > "$CTR_WORKSPACE/all.txt"; echo "got={{ needs.build.outputs.v }}" >> "$CTR_OUTPUT"'}
    outputs: {got: '{{ stages.s.outputs.got }}'}
`)}  broken:
    needs: [test]
${job(`    stages: [{name: s, type: sh, run: 'exit 3'}]
`)}  notify:
    needs: [broken]
    if: failure()
${job(`    stages: [{name: s, type: sh, run: 'echo notified'}]
`)}  deploy:
    needs: [broken]
${job(`    stages: [{name: s, type: sh, run: 'echo deployed'}]
`)}`

/** What a single run and a merged fan-out must agree on, instance by instance. */
export function outcome(result: RunResult) {
  return {
    status: result.status,
    jobs: result.jobs.map((j) => [j.job, j.id, j.status, j.outputs, j.stages.map((s) => s.status)])
  }
}

/** Each instance's id, status and outputs when FAN_PIPELINE runs with `greeting=hello`. */
export const FAN_RESULT = [
  ['build (1)', 'success', { v: 'hello1' }],
  ['build (2)', 'success', { v: 'hello2' }],
  // The list of both instances' values; the shell's echo took its quotes.
  ['test', 'success', { got: '[hello1,hello2]' }],
  ['broken', 'failure', {}],
  ['notify', 'success', {}],
  ['deploy', 'skipped', {}]
]
