import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import { parseCpu, parseDuration, parseMemory } from '../../src/pipeline/quantities.js'
import { PipelineFileError } from '../../src/pipeline/file-problems.js'

/**
 * The schema as editors see it: yaml-language-server (the engine of VS Code's YAML
 * extension) reads each file's `# yaml-language-server: $schema=` line and checks the file
 * against the schema it names, knowing nothing of ctr-pipeline's own checks.
 */
const require = createRequire(import.meta.url)
const { getLanguageService } =
  require('yaml-language-server/lib/umd/languageservice/yamlLanguageService.js') as {
    getLanguageService: (params: unknown) => {
      configure: (settings: unknown) => void
      doValidation: (
        doc: unknown,
        isKubernetes: boolean
      ) => Promise<
        Array<{ message: string; range: { start: { line: number; character: number } } }>
      >
    }
  }
const { TextDocument } = require('vscode-languageserver-textdocument') as {
  TextDocument: {
    create: (uri: string, language: string, version: number, text: string) => unknown
  }
}

const root = path.resolve(import.meta.dirname, '../..')
const schemaFile = path.join(root, 'schema/ctr-pipeline.schema.json')
const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as {
  definitions: Record<string, { pattern: string }>
}

let editor: ReturnType<typeof getLanguageService>
beforeAll(() => {
  editor = getLanguageService({
    schemaRequestService: async (uri: string) => readFileSync(fileURLToPath(uri), 'utf8'),
    workspaceContext: {
      resolveRelativePath: (rel: string, base: string) => new URL(rel, base).href
    }
  })
  editor.configure({ validate: true, hover: true, completion: true, schemas: [] })
})

let version = 0

/** What the editor says of `text` as the file at `file`: [line, column] (1-based), message. */
async function editorProblems(file: string, text: string) {
  // The service keeps what it parsed by URI and version: each text is a new version.
  const doc = TextDocument.create(pathToFileURL(file).href, 'yaml', ++version, text)
  return (await editor.doValidation(doc, false)).map(
    (d) => [d.range.start.line + 1, d.range.start.character + 1, d.message] as const
  )
}

const examples = (function list(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const at = path.join(dir, name)
    if (statSync(at).isDirectory()) return list(at)
    return /\.ya?ml$/.test(name) ? [path.relative(root, at)] : []
  })
})(path.join(root, 'examples'))

describe('the schema in an editor (yaml-language-server)', () => {
  it.each(examples)(
    '%s names the schema on its first line, and the editor finds nothing',
    async (file) => {
      const text = readFileSync(path.join(root, file), 'utf8')
      const modeline = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)
      expect(modeline).not.toBeNull()
      expect(path.resolve(path.dirname(path.join(root, file)), modeline![1])).toBe(schemaFile)
      expect(await editorProblems(path.join(root, file), text)).toEqual([])
    }
  )

  const MODELINE = '# yaml-language-server: $schema=../schema/ctr-pipeline.schema.json\n'
  const job = (line: string) =>
    `${MODELINE}jobs:\n  a:\n    runs-on: {with: {image: x}}\n${line}\n    stages: [{name: s, type: sh, run: echo}]\n`

  it.each<[string, string, Array<[number, number, string]>]>([
    [
      'a retry delay with a unit it does not know (other keys around it fine)',
      '    services: {db: {image: pg, ports: {"5432": 5432}}}\n    timeout: 5m\n    strategy: {max_parallel: 2}\n    retry: {count: 1, delay: 256x}',
      [
        [
          8,
          30,
          'String does not match the pattern of "^\\s*(\\d+(\\.\\d+)?|(\\d+(\\.\\d+)?(ms|s|m|h))+)\\s*$".'
        ]
      ]
    ],
    [
      'a timeout in words',
      '    timeout: 5 minutes',
      [
        [
          5,
          14,
          'String does not match the pattern of "^\\s*(\\d+(\\.\\d+)?|(\\d+(\\.\\d+)?(ms|s|m|h))+)\\s*$".'
        ]
      ]
    ],
    ['a duration such as 5m (not ISO 8601) is fine', '    timeout: 5m', []],
    ['a key the file does not have', '    stagez: []', [[5, 5, 'Property stagez is not allowed.']]]
  ])('%s', async (_name, lines, expected) => {
    expect(await editorProblems(path.join(root, 'examples/bad.yml'), job(lines))).toEqual(expected)
  })

  it('flags 256x as a memory size at the same line and column as ctr-pipeline validate', async () => {
    const text = `${MODELINE}jobs:\n  a:\n    runs-on: {with: {image: x, resources: {memory: 256x, cpu: "2 cores"}}}\n    stages: [{name: s, type: sh, run: echo}]\n`
    const problems = await editorProblems(path.join(root, 'examples/bad.yml'), text)
    expect(problems.map(([line, col]) => [line, col])).toEqual([
      [4, 52],
      [4, 63]
    ])
    let ours: Array<[number, number]> = []
    try {
      parsePipeline(text, 'bad.yml', root)
    } catch (error) {
      ours = (error as PipelineFileError).problems.map((p) => [p.line, p.col])
    }
    expect(ours).toEqual([
      [4, 52],
      [4, 63]
    ])
  })
})

describe("the schema's patterns say what ctr-pipeline's parsers read", () => {
  const matches = (kind: string, text: string) =>
    new RegExp(schema.definitions[kind].pattern).test(text)
  const forms = [
    '512m',
    '2g',
    '1.5Gi',
    '1024',
    ' 64 mb ',
    '256x',
    '2 cores',
    '1.5',
    '500m',
    '0.5m',
    '90s',
    '5m',
    '1h30m',
    '500ms',
    '2m0.5s',
    '5 minutes',
    'PT5M',
    '1d',
    ''
  ]
  it.each(forms)('%j', (text) => {
    const inRange = (n: number | undefined) => n !== undefined
    expect({
      memory: matches('memory', text),
      cpu: matches('cpu', text),
      duration: matches('duration', text),
      timeout: matches('timeout', text)
    }).toEqual({
      memory: inRange(parseMemory(text)),
      cpu: inRange(parseCpu(text)),
      duration: inRange(parseDuration(text)),
      timeout: inRange(parseDuration(text))
    })
  })

  it.each(['memory', 'cpu'])('a %s that is an expression is left to the run', (kind) => {
    expect([matches(kind, '{{ params.mem }}'), matches(kind, '${MEMORY}')]).toEqual([true, true])
  })
})

describe('descriptions', () => {
  it('every property of the file has one, for editors to show on hover', () => {
    const missing: string[] = []
    const walk = (node: unknown, at: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`))
      if (node === null || typeof node !== 'object') return
      const record = node as Record<string, unknown>
      // An `if` holds a condition on a property, not a property of the file.
      if (record.properties && !at.endsWith('/if'))
        for (const [key, value] of Object.entries(record.properties as Record<string, object>))
          if (!('description' in value)) missing.push(`${at}/properties/${key}`)
      for (const [key, value] of Object.entries(record)) walk(value, `${at}/${key}`)
    }
    walk(schema, '')
    expect(missing).toEqual([])
  })
})
