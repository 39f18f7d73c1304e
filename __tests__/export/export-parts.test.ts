import { runsWhen, type RunsWhen } from '../../src/export/shared/export-condition.js'
import { renderForExport } from '../../src/export/shared/export-render.js'
import { mappedPath, parseHostMap } from '../../src/export/shared/host-map.js'
import { NameBook } from '../../src/export/shared/k8s-names.js'
import { placeholdersIn } from '../../src/export/shared/placeholders.js'
import { expressionScope } from '../../src/pipeline/expression.js'

const scope = expressionScope({
  params: { env: 'prod', n: 3, list: ['a', 'b'] },
  matrix: { os: 'linux' }
})

describe('runsWhen: an if: decided at export time', () => {
  it.each<[string, string | boolean | undefined, RunsWhen]>([
    ['no if:', undefined, { onSuccess: true, onFailure: false }],
    ['true', true, { onSuccess: true, onFailure: false }],
    ['false', false, { onSuccess: false, onFailure: false }],
    ['always()', 'always()', { onSuccess: true, onFailure: true }],
    ['failure()', '{{ failure() }}', { onSuccess: false, onFailure: true }],
    ['success()', 'success()', { onSuccess: true, onFailure: false }],
    ['a param that holds', "params.env == 'prod'", { onSuccess: true, onFailure: false }],
    ["a param that doesn't", "{{ params.env == 'dev' }}", { onSuccess: false, onFailure: false }],
    [
      'always() and a matrix value',
      "always() && matrix.os == 'linux'",
      { onSuccess: true, onFailure: true }
    ],
    ['failure() or a param', 'failure() || params.n > 5', { onSuccess: false, onFailure: true }],
    ['cancelled()', 'cancelled()', { onSuccess: false, onFailure: false }]
  ])('%s', (_, condition, expected) => {
    expect(runsWhen(condition, scope)).toEqual(expected)
  })

  it.each<[string, string]>([
    ['needs.a.result', 'needs.a.result'],
    ["needs.a.outputs.x == 'y'", 'needs.a.outputs.x'],
    ['run_id', 'run_id']
  ])('refuses %s, naming what it reads', (condition, read) => {
    expect(() => runsWhen(condition, scope)).toThrow(
      `if: '${condition}' reads ${read}, which is only known while the pipeline runs`
    )
  })
})

describe('renderForExport', () => {
  const kinds = (text: string) => placeholdersIn(text)
  it.each<[string, string, { variables?: boolean; paramsAtSubmit?: boolean }, string]>([
    ['a param now', 'x={{ params.env }}', {}, 'x=prod'],
    ['a list as JSON', '{{ params.list }}', {}, '["a","b"]'],
    ['a matrix value', '{{ matrix.os }}', { paramsAtSubmit: true }, 'linux'],
    ['a param expression, now', '{{ params.n == 3 }}', { paramsAtSubmit: true }, 'true'],
    ['shell ${} without variables', 'echo ${HOME}', {}, 'echo ${HOME}'],
    ['$${ with variables', 'a$${B}', { variables: true }, 'a${B}']
  ])('renders %s', (_, text, options, expected) => {
    expect(renderForExport(text, scope, options)).toBe(expected)
  })

  it.each<[string, string, { variables?: boolean; paramsAtSubmit?: boolean }, unknown[]]>([
    [
      'an upstream output',
      '{{ needs.build.outputs.tag }}',
      {},
      [{ kind: 'needs', job: 'build', key: 'tag' }]
    ],
    ['the run id', 'run-{{ run_id }}', {}, [{ kind: 'run_id' }]],
    [
      'a bare param, at submit',
      '{{ params.env }}',
      { paramsAtSubmit: true },
      [{ kind: 'param', name: 'env' }]
    ],
    ['a ${VAR}', 'Bearer ${TOKEN}', { variables: true }, [{ kind: 'secret', name: 'TOKEN' }]]
  ])('leaves %s to the target', (_, text, options, expected) => {
    expect(kinds(renderForExport(text, scope, options))).toEqual(expected)
  })

  it.each([
    "{{ needs.a.outputs.x == 'y' }}",
    '{{ stages.s.outputs.x }}',
    '{{ toJSON(needs.a.instances) }}',
    '{{ format(run_id) }}'
  ])('refuses %s', (text) => {
    expect(() => renderForExport(text, scope)).toThrow(
      `'${text}' reads what is only known while the pipeline runs`
    )
  })
})

describe('NameBook', () => {
  it.each<[string[], string[]]>([
    [['Prep_0'], ['prep-0']],
    [['prep'], ['prep']],
    [
      ['a', 'a', 'a'],
      ['a', 'a-2', 'a-3']
    ],
    [
      ['Prep_0', 'prep-0'],
      ['prep-0', 'prep-0-2']
    ],
    [['0-build'], ['x-0-build']],
    [['__'], ['x']],
    [['report (python:3.10)'], ['report-python-3-10']],
    [
      ['a'.repeat(70), 'a'.repeat(70)],
      ['a'.repeat(63), `${'a'.repeat(61)}-2`]
    ]
  ])('names %j %j', (texts, names) => {
    const book = new NameBook()
    expect(texts.map((t) => book.name(t))).toEqual(names)
  })
})

describe('--map', () => {
  it.each<[string, ReturnType<typeof parseHostMap>]>([
    ['./data=pvc:sales', { source: '/repo/data', to: { kind: 'pvc', claim: 'sales' } }],
    ['/srv=hostPath:/mnt/srv', { source: '/srv', to: { kind: 'hostPath', path: '/mnt/srv' } }],
    ['.=pvc:src', { source: '/repo', to: { kind: 'pvc', claim: 'src' } }]
  ])('reads %s', (text, map) => {
    expect(parseHostMap(text, '/repo')).toEqual(map)
  })

  it.each(['./data', './data=pvc:', './data=nfs:x', './d=hostPath:relative'])(
    'refuses %s',
    (text) => {
      expect(() => parseHostMap(text, '/repo')).toThrow(
        `--map '${text}': expected HOST_PATH=pvc:CLAIM or HOST_PATH=hostPath:/PATH`
      )
    }
  )

  it.each<[string, string | undefined, string | undefined]>([
    ['/data', '/data', ''],
    ['/data/sales/2024', '/data/sales', '2024'],
    ['/data/x', '/data', 'x'],
    ['/database', undefined, undefined],
    ['/other', undefined, undefined]
  ])('maps %s under the deepest map', (source, mapped, rest) => {
    const maps = ['/data=pvc:a', '/data/sales=pvc:b'].map((m) => parseHostMap(m, '/'))
    const found = mappedPath(source, maps)
    expect([found?.map.source, found?.rest]).toEqual([mapped, rest])
  })
})
