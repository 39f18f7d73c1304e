import { execFileSync } from 'node:child_process'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '../..')

describe('the npm package', () => {
  it('holds the bundles, the schema, the actions and the examples, and no tests or sources', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore']
      })
    ) as Array<{ files: Array<{ path: string }> }>
    const files = pack.files.map((f) => f.path)
    const tops = [...new Set(files.map((f) => f.split('/')[0]))].sort()
    expect(tops).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'SECURITY.md',
      'action.yml',
      'actions',
      'dist',
      'examples',
      'package.json',
      'schema'
    ])
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/cli/index.js',
        'dist/action/index.js',
        'dist/sub-actions/job.js',
        'schema/ctr-pipeline.schema.json',
        'actions/job/action.yml'
      ])
    )
  })
})
