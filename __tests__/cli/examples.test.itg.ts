import { readFileSync } from 'node:fs'
import path from 'node:path'
import { leftovers, NOTHING_LEFT } from '../helpers/engine.js'
import { CLI, runNode } from '../helpers/processes.js'

const root = path.resolve(import.meta.dirname, '../..')
const readme = readFileSync(path.join(root, 'README.md'), 'utf8')

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** Output with what changes from run to run (the run id, durations) made constant. */
function steady(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.replace(/\d{8}-\d{6}-[0-9a-f]{6}/g, 'RUN').replace(/\d+\.\d\d s\)/g, 'T)'))
}

/** The first fenced block after `marker` in the README. */
function readmeBlock(marker: string): string {
  const at = readme.indexOf(marker)
  if (at < 0) throw new Error(`'${marker}' not in README.md`)
  const block = /```\w*\n([\s\S]*?)```/.exec(readme.slice(at))
  return block![1]
}

describe('the examples run as the README shows them', () => {
  it('the quick start prints what the README says it prints', async () => {
    const { code, stdout } = await runNode(CLI, ['run', 'examples/quickstart.yml'])
    expect(code).toBe(0)
    expect(steady(stdout)).toEqual(steady(readmeBlock('later runs take seconds. It prints:')))
  })

  it('the services example: a service serving a mounted folder as nobody, reached by name', async () => {
    const { code, stdout } = await runNode(CLI, ['run', 'examples/services/pipeline.yml'])
    expect(code).toBe(0)
    expect(stdout).toContain('[test] hello from the site folder\n')
    // The README shows the example file itself.
    const file = readFileSync(path.join(root, 'examples/services/pipeline.yml'), 'utf8')
    expect(readmeBlock('### Services and networks')).toBe(
      file.slice(file.indexOf('name: services'))
    )
  })

  it('the data check runs offline on its default image and points at the bad rows', async () => {
    const { code, stdout } = await runNode(CLI, ['run', 'examples/data-checks/pipeline.yml'])
    expect(code).toBe(1)
    expect(stdout).toContain(
      '[csv (examples/data-checks/data/orders.csv)] job started in ctr-fixtures/python:3.11\n'
    )
    expect(stdout).toMatch(/examples\/data-checks\/data\/orders\.csv:3/)
  })
})
