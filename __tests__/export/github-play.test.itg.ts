import { execFile } from 'node:child_process'
import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import picomatch from 'picomatch'
import { parse } from 'yaml'
import type { RunResult } from '../../src/scheduler/run-result.js'
import { leftovers, NOTHING_LEFT, runYaml, tempDir } from '../helpers/engine.js'
import { FAN_PIPELINE, FAN_RESULT, outcome } from '../helpers/fan-out-pipeline.js'
import { ACTION, CLI, runNode, subActionEntry } from '../helpers/processes.js'
import { runnerEnv } from '../helpers/runner.js'

const run = promisify(execFile)

interface Step {
  id?: string
  if?: string
  uses: string
  with?: Record<string, string | boolean>
}
interface WorkflowJob {
  needs?: string[]
  if?: string
  strategy?: { matrix: { instance: string } }
  outputs?: Record<string, string>
  steps: Step[]
}
interface Workflow {
  env: Record<string, string>
  jobs: Record<string, WorkflowJob>
}

/** What one runner's expressions read. */
interface Scope {
  instance?: string
  steps: Record<string, Record<string, string>>
  needs: Record<string, Record<string, string>>
  env: Record<string, string>
}

/**
 * The expressions ctr-pipeline's github export writes, evaluated as GitHub would for a
 * `pull_request` event; anything else is an error, so an export that grows past what
 * this plays fails the test rather than passing unplayed.
 */
function evaluate(text: string, scope: Scope): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expression: string) => {
    if (expression === 'matrix.instance') return scope.instance!
    if (expression === 'env.CTR_PARAMS') return scope.env.CTR_PARAMS
    if (expression === '!cancelled()' || expression === 'always()') return 'true'
    let match = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expression)
    if (match) return scope.steps[match[1]]?.[match[2]] ?? ''
    match = /^fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\)\['([^']+)'\]$/.exec(expression)
    if (match) return JSON.stringify(JSON.parse(scope.needs[match[1]][match[2]])[match[3]])
    match = /^github\.event_name == 'workflow_dispatch' && toJSON\(inputs\) \|\| '(.*)'$/.exec(
      expression
    )
    if (match) return match[1].replaceAll("''", "'")
    throw new Error(`github-play: an expression it does not play: ${expression}`)
  })
}

/**
 * Plays an exported workflow as GitHub would run it on a pull request: its jobs in order,
 * a runner per matrix instance (a fresh copy of the repository), artifacts as folders;
 * `actions/checkout` is the copy, `download-artifact` and `upload-artifact` copy folders,
 * and ctr-pipeline's action and sub-actions run as the shipped bundle with the runner's
 * INPUT_ variables and files. Returns each action step's outputs, by job and instance.
 */
async function playWorkflow(workflow: Workflow, repo: string) {
  const artifacts = tempDir('ctr-artifacts-')
  const jobOutputs: Record<string, Record<string, string>> = {}
  const actionOutputs: Record<string, Record<string, string>> = {}
  for (const [id, job] of Object.entries(workflow.jobs)) {
    const needs = Object.fromEntries((job.needs ?? []).map((n) => [n, jobOutputs[n] ?? {}]))
    const env = { CTR_PARAMS: evaluate(workflow.env.CTR_PARAMS, { steps: {}, needs, env: {} }) }
    const matrix = job.strategy?.matrix.instance
    const instances = matrix
      ? (JSON.parse(evaluate(matrix, { steps: {}, needs, env })) as string[])
      : [undefined]
    for (const instance of instances) {
      const workspace = tempDir('ctr-runner-')
      cpSync(repo, workspace, { recursive: true })
      const scope: Scope = { instance, steps: {}, needs, env }
      for (const step of job.steps) {
        if (step.if !== undefined) expect(evaluate(step.if, scope)).toBe('true')
        const inputs = Object.fromEntries(
          Object.entries(step.with ?? {}).map(([k, v]) => [k, evaluate(String(v), scope)])
        )
        const [action] = step.uses.split('@')
        if (action === 'actions/checkout') continue
        if (action === 'actions/download-artifact') {
          const isMatch = picomatch(inputs.pattern)
          for (const name of readdirSync(artifacts).filter((n) => isMatch(n)))
            cpSync(path.join(artifacts, name), path.join(workspace, inputs.path), {
              recursive: true
            })
        } else if (action === 'actions/upload-artifact') {
          cpSync(path.join(workspace, inputs.path), path.join(artifacts, inputs.name), {
            recursive: true
          })
        } else {
          const sub = /^[^/]+\/ctr-pipeline(?:\/actions\/([\w-]+))?$/.exec(action)
          if (!sub) throw new Error(`github-play: an action it does not play: ${step.uses}`)
          const runner = runnerEnv(inputs)
          const { code } = await runNode(sub[1] ? subActionEntry(sub[1]) : ACTION, [], {
            ...runner.env,
            GITHUB_WORKSPACE: workspace
          })
          const outputs = runner.read('output')
          actionOutputs[`${id}/${instance ?? ''}/${sub[1] ?? 'run'}`] = {
            ...outputs,
            code: String(code)
          }
          if (step.id) scope.steps[step.id] = outputs
        }
      }
      jobOutputs[id] = Object.fromEntries(
        Object.entries(job.outputs ?? {}).map(([k, v]) => [k, evaluate(v, scope)])
      )
    }
  }
  return actionOutputs
}

describe('export --to github, played as GitHub would run it', () => {
  afterAll(async () => {
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('gives, in its results job, the result of one local run', async () => {
    const local = await runYaml(FAN_PIPELINE, { params: { greeting: 'hello' } })
    const repo = tempDir('ctr-repo-')
    writeFileSync(path.join(repo, 'pipeline.yml'), FAN_PIPELINE)
    const { stdout } = await run(
      process.execPath,
      [CLI, 'export', '--to', 'github', 'pipeline.yml', '--param', 'greeting=hello'],
      { cwd: repo }
    )
    const played = await playWorkflow(parse(stdout) as Workflow, repo)
    expect(Object.entries(played).map(([step, o]) => [step, o.code, o.status])).toEqual([
      ['plan//validate', '0', undefined],
      ['build/build-1/run', '0', 'success'],
      ['build/build-2/run', '0', 'success'],
      ['test/test/run', '0', 'success'],
      ['broken/broken/run', '1', 'failure'],
      ['notify/notify/run', '0', 'success'],
      ['deploy/deploy/run', '0', 'success'],
      ['results//run', '1', 'failure']
    ])
    const merged = JSON.parse(played['results//run'].result) as RunResult
    expect(outcome(merged)).toEqual(outcome(local.result))
    expect(merged.jobs.map((j) => [j.id, j.status, j.outputs])).toEqual(FAN_RESULT)
    expect(existsSync(path.join(repo, 'ctr-fanout'))).toBe(false)
    expect(JSON.parse(played['results//run'].outputs)).toEqual({
      build: { v: ['hello1', 'hello2'] },
      test: { got: '[hello1,hello2]' },
      broken: {},
      notify: {},
      deploy: {}
    })
  })
})
