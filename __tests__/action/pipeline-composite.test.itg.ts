import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { data, Evaluator, Lexer, Parser } from '@actions/expressions'
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { BUSYBOX, leftovers, NOTHING_LEFT, tempDir } from '../helpers/engine.js'
import { FakeResultsService } from '../helpers/fake-results-service.js'
import { ACTION, runNode, subActionEntry } from '../helpers/processes.js'
import { runnerEnv } from '../helpers/runner.js'

const ROOT = path.resolve(import.meta.dirname, '../..')

interface Composite {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, { value: string }>
  runs: {
    using: string
    steps: Array<{ id?: string; if?: string; uses: string; with?: Record<string, string> }>
  }
}
const COMPOSITE = parse(
  readFileSync(path.join(ROOT, 'actions/pipeline/action.yml'), 'utf8')
) as Composite

/** What a composite's expressions read, and how the steps so far went. */
interface Scope {
  inputs: Record<string, string>
  steps: Record<string, { outputs: Record<string, string> }>
  failed: boolean
}

/** One expression, by GitHub's own parser and evaluator, with the status functions. */
function evaluate(text: string, scope: Scope): unknown {
  const flags = { success: !scope.failed, failure: scope.failed, always: true, cancelled: false }
  const functions = Object.entries(flags).map(([name, value]) => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(value)
  }))
  const { tokens } = new Lexer(text).lex()
  const expr = new Parser(tokens, ['inputs', 'steps'], functions).parse()
  const context = JSON.parse(
    JSON.stringify({ inputs: scope.inputs, steps: scope.steps }),
    data.reviver
  ) as data.Dictionary
  const result = new Evaluator(expr, context, new Map(functions.map((f) => [f.name, f])))
  return JSON.parse(JSON.stringify(result.evaluate(), data.replacer)) as unknown
}

const template = (text: string, scope: Scope) =>
  text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, e: string) => String(evaluate(e, scope) ?? ''))

/** A step's `if:`, `${{ }}` or not; a step without one runs after success only. */
function runs(condition: string | undefined, scope: Scope): boolean {
  if (condition === undefined) return !scope.failed
  const bare = condition.replace(/^\s*\$\{\{\s*([\s\S]*?)\s*\}\}\s*$/, '$1')
  const value = evaluate(bare, scope)
  return !(value === false || value === 0 || value === '' || value === null)
}

/**
 * Plays actions/pipeline as the runner runs a composite: its steps in order, each `if:`
 * and `with:` evaluated, a step after a failure skipped unless its condition says
 * otherwise. Its siblings (`OWNER/ctr-pipeline…@v1`, which the release names) run as the
 * shipped bundles with a runner's INPUT_ variables and files; `actions/upload-artifact`
 * copies its path into `artifacts/NAME/`. Returns what ran, each step's exit code and
 * the composite's outputs.
 */
async function playComposite(given: Record<string, string>, workspace: string, env: object) {
  const inputs = Object.fromEntries(
    Object.entries(COMPOSITE.inputs).map(([k, v]) => [k, given[k] ?? v.default ?? ''])
  )
  const scope: Scope = { inputs, steps: {}, failed: false }
  const artifacts = tempDir('ctr-composite-artifacts-')
  const steps: Array<[string, number | null | 'skipped']> = []
  for (const step of COMPOSITE.runs.steps) {
    const name = step.id ?? step.uses
    if (!runs(step.if, scope)) {
      steps.push([name, 'skipped'])
      continue
    }
    const values = Object.fromEntries(
      Object.entries(step.with ?? {}).map(([k, v]) => [k, template(String(v), scope)])
    )
    const [action] = step.uses.split('@')
    if (action === 'actions/upload-artifact') {
      const into = path.join(artifacts, values.name)
      cpSync(values.path, path.join(into, path.basename(values.path)))
      steps.push([name, 0])
      continue
    }
    const sibling = /^OWNER\/ctr-pipeline(?:\/actions\/([\w-]+))?$/.exec(action)
    if (!sibling) throw new Error(`composite play: an action it does not play: ${step.uses}`)
    const runner = runnerEnv(values)
    const { code } = await runNode(sibling[1] ? subActionEntry(sibling[1]) : ACTION, [], {
      ...runner.env,
      ...env,
      GITHUB_WORKSPACE: workspace
    })
    if (step.id) scope.steps[step.id] = { outputs: runner.read('output') }
    if (code !== 0) scope.failed = true
    steps.push([name, code])
  }
  const outputs = Object.fromEntries(
    Object.entries(COMPOSITE.outputs).map(([k, v]) => [k, template(v.value, scope)])
  )
  return { steps, outputs, artifacts }
}

describe('actions/pipeline, played as the runner runs a composite', () => {
  const service = new FakeResultsService()
  beforeAll(() => service.start())
  afterAll(async () => {
    await service.stop()
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('is a composite whose siblings are named for the release to fill in', () => {
    expect(COMPOSITE.runs.using).toBe('composite')
    expect(COMPOSITE.runs.steps.map((s) => s.uses)).toEqual([
      'OWNER/ctr-pipeline/actions/validate@v1',
      'OWNER/ctr-pipeline@v1',
      'actions/upload-artifact@v4'
    ])
  })

  it('validates, runs, and uploads the report and the result, also when the run fails', async () => {
    const workspace = tempDir('ctr-composite-')
    writeFileSync(
      path.join(workspace, 'ctr-pipeline.yml'),
      [
        'jobs:',
        '  ok:',
        `    runs-on: {with: {image: ${BUSYBOX}}}`,
        '    stages: [{name: say, type: sh, run: "echo fine"}]',
        '  broken:',
        `    runs-on: {with: {image: ${BUSYBOX}}}`,
        '    stages: [{name: fail, type: sh, run: "echo about to fail; exit 5"}]',
        ''
      ].join('\n')
    )
    const played = await playComposite({ pipeline: 'ctr-pipeline.yml' }, workspace, service.env())
    expect(played.steps).toEqual([
      ['validate', 0],
      ['run', 1],
      ['actions/upload-artifact@v4', 0]
    ])
    expect(played.outputs.status).toBe('failure')
    const resultFile = played.outputs['result-file']
    const uploaded = path.join(played.artifacts, 'ctr-pipeline-result', path.basename(resultFile))
    expect(JSON.parse(readFileSync(uploaded, 'utf8'))).toMatchObject({
      run_id: played.outputs['run-id'],
      status: 'failure'
    })
    expect(readFileSync(played.outputs['report-file'], 'utf8')).toContain(
      '<pre>about to fail</pre>'
    )
    expect(service.artifacts.get('ctr-pipeline-report')?.finalized).toBe(true)
  })

  it('stops at validation when the file is invalid: nothing runs, nothing is uploaded', async () => {
    const workspace = tempDir('ctr-composite-')
    writeFileSync(path.join(workspace, 'ctr-pipeline.yml'), 'jobs:\n  a:\n    stages: 3\n')
    const played = await playComposite(
      { pipeline: 'ctr-pipeline.yml', report: 'false' },
      workspace,
      {}
    )
    expect(played.steps).toEqual([
      ['validate', 1],
      ['run', 'skipped'],
      ['actions/upload-artifact@v4', 'skipped']
    ])
    expect(played.outputs).toEqual({
      status: '',
      'run-id': '',
      'result-file': '',
      'report-file': '',
      outputs: ''
    })
    expect(readdirSync(played.artifacts)).toEqual([])
    expect(existsSync(path.join(workspace, 'ctr-artifacts'))).toBe(false)
  })
})
