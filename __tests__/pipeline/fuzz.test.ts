import fc from 'fast-check'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { stringify } from 'yaml'
import { checkPlan } from '../../src/app/prepare-plan.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { PipelineFileError } from '../../src/pipeline/file-problems.js'

const fixtures = path.join(import.meta.dirname, '..', 'fixtures')
const seeds = readdirSync(path.join(fixtures, 'seed-001')).map((f) =>
  readFileSync(path.join(fixtures, 'seed-001', f), 'utf8')
)
const quickstart = readFileSync(
  path.join(import.meta.dirname, '../../examples/quickstart.yml'),
  'utf8'
)
const corpus = [...seeds, quickstart]

/**
 * The property every input must have: the loader and the planner either accept it or
 * throw a PipelineFileError whose every problem has a line and column inside the file; nothing
 * else is thrown, and nothing takes long.
 */
function acceptedOrPositioned(text: string): void {
  const lines = text.split('\n').length
  const started = Date.now()
  try {
    checkPlan(parsePipeline(text, 'fuzz.yml', '/repo'))
  } catch (error) {
    if (!(error instanceof PipelineFileError)) throw error
    expect(error.problems.length).toBeGreaterThan(0)
    for (const p of error.problems) {
      expect(p.file).toBe('fuzz.yml')
      expect(p.line).toBeGreaterThanOrEqual(1)
      expect(p.line).toBeLessThanOrEqual(lines + 1)
      expect(p.col).toBeGreaterThanOrEqual(1)
      expect(p.message.length).toBeGreaterThan(0)
    }
  }
  expect(Date.now() - started).toBeLessThan(2000)
}

/** One edit of a text: a character inserted, deleted or replaced, or a line dropped or doubled. */
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('insert'),
    at: fc.nat(),
    text: fc.constantFrom(
      ...': -[]{}"\'#&*!|>%@`\n\t{{}}$'.split(''),
      'x',
      '  ',
      '{{ params.x }}',
      'needs',
      '- ',
      'jobs'
    )
  }),
  fc.record({ kind: fc.constant('delete'), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('line'), at: fc.nat(), double: fc.boolean() })
)

function mutate(
  text: string,
  edits:
    | fc.Arbitrary<never>[]
    | Array<{ kind: string; at: number; text?: string; length?: number; double?: boolean }>
): string {
  let out = text
  for (const edit of edits as Array<{
    kind: string
    at: number
    text?: string
    length?: number
    double?: boolean
  }>) {
    const at = out.length ? edit.at % out.length : 0
    if (edit.kind === 'insert') out = out.slice(0, at) + edit.text + out.slice(at)
    else if (edit.kind === 'delete') out = out.slice(0, at) + out.slice(at + (edit.length ?? 1))
    else {
      const lines = out.split('\n')
      const i = edit.at % lines.length
      lines.splice(i, edit.double ? 0 : 1, ...(edit.double ? [lines[i]] : []))
      out = lines.join('\n')
    }
  }
  return out
}

describe('fuzzing the loader and planner', () => {
  it('mutated example pipelines are accepted or refused with positioned problems', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (text, edits) => acceptedOrPositioned(mutate(text, edits))
      ),
      { numRuns: 600 }
    )
  })

  it('random YAML documents are accepted or refused with positioned problems', () => {
    const key = fc.constantFrom(
      'jobs',
      'params',
      'runs-on',
      'with',
      'image',
      'stages',
      'needs',
      'strategy',
      'matrix',
      'include',
      'exclude',
      'type',
      'run',
      'outputs',
      'if',
      'resources',
      'memory',
      'volumes',
      'a',
      'b'
    )
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(
        '{{ params.a }}',
        '{{ needs.a.outputs.x }}',
        'busybox',
        'bash',
        '2g',
        '${X}',
        '{{',
        'always()'
      )
    )
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('tree'), { maxLength: 4 }),
        fc.dictionary(key, tie('tree'), { maxKeys: 5 })
      )
    }))
    fc.assert(
      fc.property(tree, (doc) => acceptedOrPositioned(stringify(doc))),
      { numRuns: 600 }
    )
  })

  it('random text is accepted or refused with positioned problems', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 300 }), (text) =>
        acceptedOrPositioned(text)
      ),
      { numRuns: 600 }
    )
  })
})
