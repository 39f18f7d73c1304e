import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'

const root = path.resolve(import.meta.dirname, '../..')
const subActions = readdirSync(path.join(root, 'actions')).sort()

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
