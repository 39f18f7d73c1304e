import { preparePlan } from '../../src/app/prepare-plan.js'
import { FakeBackend } from '../../src/backend/fake/fake-backend.js'
import { ImageStore } from '../../src/scheduler/image-store.js'
import { parseOutputFile } from '../../src/scheduler/output-file.js'
import { expressionScope } from '../../src/pipeline/expression.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { render } from '../../src/pipeline/template.js'

describe('keys that name Object.prototype are keys like any other (item 17)', () => {
  it('keeps outputs named __proto__ and constructor, and expressions read them', () => {
    const outputs = parseOutputFile('__proto__=x\nconstructor=y\ntoString<<E\nz\nE\n')
    expect(Object.entries(outputs)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['toString', 'z']
    ])
    const scope = expressionScope({ stages: { s: { outputs: { ...outputs } } } })
    expect(
      render(
        '{{ stages.s.outputs.__proto__ }} {{ stages.s.outputs.constructor }} {{ stages.s.outputs.toString }}',
        scope
      )
    ).toBe('x y z')
  })

  it('a param named toString is its value, or nothing when none is given', () => {
    const pipeline = parsePipeline(
      `params: {toString: {type: str, required: false}}
jobs:
  a:
    runs-on: {with: {image: img}}
    stages: [{name: s, type: sh, run: 'echo "{{ params.toString }}"'}]
`,
      'p.yml',
      '/repo'
    )
    expect(preparePlan(pipeline, {}).params).toEqual({})
    expect(preparePlan(pipeline, { toString: 'hi' }).params).toEqual({ toString: 'hi' })
  })
})

describe('an image name is checked once rendered, before the engine is asked (item 22)', () => {
  it('rejects a name with a space in one line, and asks the backend nothing', async () => {
    const backend = new FakeBackend()
    const store = new ImageStore(
      backend,
      { info: () => undefined, warning: () => undefined },
      { env: {} }
    )
    await expect(
      store.prepare({ kind: 'pull', ref: 'python 3.11', policy: 'missing' })
    ).rejects.toThrow("image 'python 3.11' holds white space, which no image reference has")
    expect(backend.calls()).toEqual([])
  })
})
