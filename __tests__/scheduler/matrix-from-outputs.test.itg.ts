import {
  BUSYBOX,
  intervalsOf,
  leftovers,
  NOTHING_LEFT,
  peakOverlap,
  runYaml,
  tempDir
} from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

const image = `runs-on: {with: {image: ${BUSYBOX}}}`

/**
 * A `list` job whose output `found` is `found` (shell text in a here-document), and a
 * `check` job whose matrix is `matrix`, printing what each instance got and handing on
 * `seen` (`{{ matrix.f }}` unless told).
 */
const pipeline = (found: string, matrix: string, options: { seen?: string } = {}) => `jobs:
  list:
    ${image}
    outputs: {found: "{{ stages.ls.outputs.found }}"}
    stages:
      - id: ls
        type: sh
        run: |
          cat > "$CTR_OUTPUT" <<EOF
          found=${found}
          EOF
  check:
    needs: [list]
    ${image}
    strategy: {matrix: ${matrix}}
    outputs: {seen: "{{ stages.s.outputs.seen }}"}
    stages:
      - id: s
        type: sh
        run: |
          echo 'got {{ toJSON(matrix) }}' | tr -d ' \\n'; echo
          echo "seen=${options.seen ?? '{{ matrix.f }}'}" >> "$CTR_OUTPUT"
  report:
    needs: [check]
    ${image}
    stages:
      - type: sh
        run: |
          echo "all: {{ join(needs.check.outputs.seen, ',') }} ({{ needs.check.result }})"
`

const axis = '{f: "{{ fromJSON(needs.list.outputs.found) }}"}'

/** The lines the stages printed for `id`, without the reporter's own. */
const printed = (lines: string[], id: string) =>
  lines.filter((l) => l.startsWith(`[${id}] `) && !/^\[[^\]]+\] (job |stage )/.test(l))

describe('a matrix made of what an earlier job found (real engine)', () => {
  it('a list of scalars: one instance per value, whose outputs reach the job after it as a list', async () => {
    const { result, lines, runId } = await runYaml(pipeline('["a.csv","b.csv","c.csv"]', axis))
    expect(result.status).toBe('success')
    expect(result.jobs.map((j) => [j.id, j.status, j.outputs])).toEqual([
      ['list', 'success', { found: '["a.csv","b.csv","c.csv"]' }],
      ['check (a.csv)', 'success', { seen: 'a.csv' }],
      ['check (b.csv)', 'success', { seen: 'b.csv' }],
      ['check (c.csv)', 'success', { seen: 'c.csv' }],
      ['report', 'success', {}]
    ])
    expect(printed(lines, 'check (b.csv)')).toEqual(['[check (b.csv)] got{"f":"b.csv"}'])
    expect(printed(lines, 'report')).toEqual(['[report] all: a.csv,b.csv,c.csv (success)'])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('a whole matrix of objects, and include rows from an output', async () => {
    const whole = await runYaml(
      pipeline(
        '[{"os":"alpine","f":"x"},{"os":"debian","f":"y"}]',
        '"{{ fromJSON(needs.list.outputs.found) }}"',
        { seen: '{{ matrix.f }}{{ matrix.os }}' }
      )
    )
    expect(whole.result.jobs.map((j) => [j.id, j.matrix, j.outputs])).toEqual([
      ['list', {}, { found: '[{"os":"alpine","f":"x"},{"os":"debian","f":"y"}]' }],
      ['check (alpine, x)', { os: 'alpine', f: 'x' }, { seen: 'xalpine' }],
      ['check (debian, y)', { os: 'debian', f: 'y' }, { seen: 'ydebian' }],
      ['report', {}, {}]
    ])
    const include = await runYaml(
      pipeline(
        '[{"os":"alpine","f":"big"}]',
        '{os: [alpine, debian], include: "{{ fromJSON(needs.list.outputs.found) }}"}',
        { seen: '{{ matrix.f }}{{ matrix.os }}' }
      )
    )
    expect(include.result.jobs.map((j) => [j.id, j.matrix])).toEqual([
      ['list', {}],
      ['check (alpine, big)', { os: 'alpine', f: 'big' }],
      ['check (debian)', { os: 'debian' }],
      ['report', {}]
    ])
    expect(printed(include.lines, 'report')).toEqual(['[report] all: bigalpine,debian (success)'])
  })

  it('an empty list skips the job with one line, and the jobs after it run as after a skip', async () => {
    const { result, lines, runId } = await runYaml(pipeline('[]', axis))
    expect(result.status).toBe('success')
    expect(result.jobs.map((j) => [j.id, j.status])).toEqual([
      ['list', 'success'],
      ['check', 'skipped'],
      ['report', 'skipped']
    ])
    expect(lines.filter((l) => l.startsWith('[check]'))).toEqual([
      "[check] job skipped: its matrix, made of the outputs of 'list', has no instances (axis 'f' ('{{ fromJSON(needs.list.outputs.found) }}') must give a non-empty list, not []) (0.00 s)"
    ])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it.each([
    [
      'not JSON',
      'a.csv b.csv',
      `jobs.check.strategy.matrix: Error parsing JSON when evaluating fromJson; needs.list.outputs.found is "a.csv b.csv"`
    ],
    [
      'too long',
      '[$(seq -s, 0 299)]',
      'jobs.check.strategy.matrix: the matrix makes 300 instances; at most 256 may run'
    ],
    [
      'not a list',
      '{"files":1}',
      `jobs.check.strategy.matrix: axis 'f' ('{{ fromJSON(needs.list.outputs.found) }}') must give a non-empty list, not {"files":1}`
    ]
  ])(
    'an output that is %s fails the job, naming the place and quoting it',
    async (_, found, error) => {
      const dir = tempDir()
      const { result, runId } = await runYaml(pipeline(found, axis), { dir })
      expect(result.status).toBe('failure')
      expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
        ['list', 'success', undefined],
        ['check', 'failure', `${dir}/pipeline.yml:15:16: ${error}`],
        ['report', 'skipped', "skipped: needed job 'check' did not succeed"]
      ])
      expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
    }
  )

  it('holds max_parallel over the instances, as the engine saw them run', async () => {
    // Containers that run their own command: their start and finish are the engine's.
    const { result, runId } = await runYaml(
      `jobs:
  list:
    ${image}
    outputs: {n: "{{ stages.ls.outputs.n }}"}
    stages: [{id: ls, type: sh, run: 'echo "n=[1,2,3,4,5,6]" >> "$CTR_OUTPUT"'}]
  sleep:
    needs: [list]
    strategy: {max_parallel: 2, matrix: {i: "{{ fromJSON(needs.list.outputs.n) }}"}}
    runs-on: {with: {image: ${BUSYBOX}, entrypoint: [sleep], command: ["0.5"]}}
`,
      { keep: true, maxParallel: 6 }
    )
    expect(result.status).toBe('success')
    const sleeps = (await intervalsOf(runId)).filter((i) => i.job === 'sleep')
    expect(sleeps.length).toBe(6)
    expect(peakOverlap(sleeps)).toBe(2)
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('untrusted: a bind that an output names is refused when the instance is known, and nothing runs', async () => {
    const ws = tempDir('ctr-ws-')
    const { result, lines, runId } = await runYaml(
      `jobs:
  list:
    ${image}
    outputs: {dirs: "{{ stages.ls.outputs.dirs }}"}
    stages:
      - {id: ls, type: sh, run: 'echo "dirs=[\\"/etc\\"]" >> "$CTR_OUTPUT"'}
  read:
    needs: [list]
    runs-on: {with: {image: ${BUSYBOX}, volumes: ["{{ matrix.dir }}:/s:ro"]}}
    strategy: {matrix: {dir: "{{ fromJSON(needs.list.outputs.dirs) }}"}}
    stages: [{type: sh, run: 'echo RAN; cat /s/hostname'}]
`,
      { dir: ws, untrusted: true }
    )
    expect(result.jobs.map((j) => [j.id, j.status, j.error])).toEqual([
      ['list', 'success', undefined],
      [
        'read (/etc)',
        'failure',
        `refused in untrusted mode: volumes: /etc (at /s) is outside the workspace ${ws}`
      ]
    ])
    expect(lines.some((l) => l.includes('RAN'))).toBe(false)
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})
