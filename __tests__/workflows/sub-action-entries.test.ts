import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'

const root = path.resolve(import.meta.dirname, '../..')
const subActions = readdirSync(path.join(root, 'actions'))
  .filter((name) => name !== 'pipeline')
  .sort()

describe('actions/pipeline, the composite', () => {
  it('chains validate, the root action and the upload of the result, each by its released name', () => {
    const action = parse(readFileSync(path.join(root, 'actions/pipeline/action.yml'), 'utf8')) as {
      runs: { using: string; steps: Array<{ uses: string }> }
    }
    expect(action.runs.using).toBe('composite')
    expect(action.runs.steps.map((s) => s.uses)).toEqual([
      'OWNER/ctr-pipeline/actions/validate@v1',
      'OWNER/ctr-pipeline@v1',
      'actions/upload-artifact@v4'
    ])
  })

  it('the release names its repository and tag in it (scripts/release-name-composite.sh)', () => {
    const copy = path.join(mkdtempSync(path.join(tmpdir(), 'ctr-release-')), 'action.yml')
    copyFileSync(path.join(root, 'actions/pipeline/action.yml'), copy)
    execFileSync('bash', [
      path.join(root, 'scripts/release-name-composite.sh'),
      'octo/ctr-pipeline',
      'v1.2.3',
      copy
    ])
    const action = parse(readFileSync(copy, 'utf8')) as { runs: { steps: Array<{ uses: string }> } }
    expect(action.runs.steps.map((s) => s.uses)).toEqual([
      'octo/ctr-pipeline/actions/validate@v1.2.3',
      'octo/ctr-pipeline@v1.2.3',
      'actions/upload-artifact@v4'
    ])
  })
})

describe('the sub-actions under actions/', () => {
  it('are the ones the action knows', () => {
    expect(subActions).toEqual(['cleanup', 'export', 'job', 'validate'])
  })

  it.each(subActions)(
    'actions/%s is a node24 action whose entry runs the bundle in its mode, with a post only where it creates something',
    (name) => {
      const action = parse(
        readFileSync(path.join(root, 'actions', name, 'action.yml'), 'utf8')
      ) as {
        runs: Record<string, string>
        outputs?: Record<string, { value?: string }>
      }
      const entry = `../../dist/sub-actions/${name}.js`
      expect(action.runs).toEqual({
        using: 'node24',
        main: entry,
        ...(name === 'job' ? { post: entry } : {})
      })
      const file = path.resolve(root, 'actions', name, entry)
      expect(existsSync(file)).toBe(true)
      expect(readFileSync(file, 'utf8').split('\n').slice(1, 4)).toEqual([
        `process.env.CTR_PIPELINE_ACTION = '${name}'`,
        "const { run } = await import('../action/index.js')",
        'await run()'
      ])
      // A node action's outputs are what it sets: no composite `value:` left behind.
      for (const output of Object.values(action.outputs ?? {})) expect(output.value).toBeUndefined()
    }
  )
})
