import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'
import type { ContainerSpec, Pipeline } from '../../src/pipeline/pipeline-types.js'
import { problemsOf } from '../helpers/file-problems.js'

const seedDir = path.join(import.meta.dirname, '..', 'fixtures', 'seed-001')
const seeds = readdirSync(seedDir).map((f) => [f, readFileSync(path.join(seedDir, f), 'utf8')])

/** `FILE:LINE:COL` of the first occurrence of `needle` (after `from`) in `text`. */
function positionOf(text: string, needle: string, from = 0): string {
  const offset = text.indexOf(needle, from)
  if (offset < 0) throw new Error(`'${needle}' not in text`)
  const before = text.slice(0, offset).split('\n')
  return `${before.length}:${before[before.length - 1].length + 1}`
}

const job = (body: string) => `jobs:\n  a:\n${body}`
const withImage = '    runs-on:\n      with:\n        image: busybox\n'

describe("seed 001's examples", () => {
  it('are all here (one file per YAML block of the seed)', () => expect(seeds).toHaveLength(10))

  it.each(seeds)('%s validates verbatim', (file, text) => {
    expect(problemsOf(text, file)).toEqual([])
  })

  it.each(seeds)('%s with a misspelt key is refused at the key', (file, text) => {
    const broken = text.replace(/type: "container"/, 'tpye: "container"')
    expect(problemsOf(broken, file)).toEqual([
      `${file}:${positionOf(broken, 'tpye')}: jobs.${firstJob(text)}.runs-on: unknown key 'tpye' (did you mean 'type'?)`
    ])
  })

  it.each(seeds)('%s with a value of the wrong type is refused at the value', (file, text) => {
    const broken = text.replace(/image: "([^"]+)"/, 'image: ["$1"]')
    expect(problemsOf(broken, file)).toEqual([
      `${file}:${positionOf(broken, '[', broken.indexOf('image: ['))}: jobs.${firstJob(text)}.runs-on.with.image must be a string, not a list`
    ])
  })

  it.each(seeds)('%s with a cycle added is refused, showing the cycle', (file, text) => {
    const first = firstJob(text)
    const broken =
      text.replace(`  ${first}:\n`, `  ${first}:\n    needs: [loop]\n`) +
      `\n  loop:\n    needs: [${first}]\n    runs-on: {with: {image: busybox}}\n`
    expect(problemsOf(broken, file)).toEqual([
      `${file}:${positionOf(broken, `${first}:`)}: jobs form a cycle through 'needs': ${first} -> loop -> ${first}`
    ])
  })
})

function firstJob(text: string): string {
  return /^jobs:\n(?:#.*\n|\s*\n)*\s+([\w-]+):/m.exec(text)![1]
}

describe('parsePipeline', () => {
  it("reads seed 001's Basic Configuration into the model", () => {
    const text = readFileSync(path.join(seedDir, 'basic-configuration.yml'), 'utf8')
    const pipeline = parsePipeline(text, 'seed.yml', '/repo')
    expect(pipeline.name).toBe('container-example')
    expect(pipeline.params.data_path).toEqual({
      type: 'str',
      default: '/host/data',
      required: false,
      position: { file: 'seed.yml', line: 6, col: 3 }
    })
    const [processing] = pipeline.jobs
    expect(processing.id).toBe('data-processing')
    expect(processing.container.resources).toEqual({ memory: '2g', cpu: '2' })
    expect(processing.container.volumes).toEqual([
      { source: '/host/data', target: '/container/data', mode: 'rw' }
    ])
    expect(processing.stages?.map((s) => [s.id, s.type])).toEqual([
      ['start', 'empty'],
      ['process-data', 'py'],
      ['complete', 'empty']
    ])
  })

  // Each message at the exact place the parser stopped: all of them once said 1:1.
  it.each([
    [
      'jobs:\n  a: [1, 2\n',
      'p.yml:3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]'
    ],
    ['a: 1\nb: "x\n', 'p.yml:3:1: YAML syntax error: Missing closing "quote'],
    [
      'jobs:\n  - b\n c: 1\n',
      'p.yml:3:1: YAML syntax error: All mapping items must start at the same column'
    ],
    [
      'a: b: c\n',
      'p.yml:1:4: YAML syntax error: Nested mappings are not allowed in compact mappings'
    ],
    ['jobs:\n\tx: 1\n', 'p.yml:2:1: YAML syntax error: Tabs are not allowed as indentation'],
    [
      'jobs: {}\n---\nb: 2\n',
      "p.yml:2:1: YAML syntax error: a pipeline file holds one YAML document: remove this '---'"
    ],
    [
      'x: [a, b]]\n',
      'p.yml:1:10: YAML syntax error: Unexpected flow-seq-end token in YAML stream: "]"'
    ]
  ])('the syntax error in %j is at its line and column', (text, message) => {
    expect(problemsOf(text)[0]).toBe(message)
  })

  it.each([
    [
      'a misspelt key, with a suggestion',
      job(`${withImage}        enviroment: {A: b}\n`),
      /^p\.yml:6:9: jobs\.a\.runs-on\.with: unknown key 'enviroment' \(did you mean 'environment'\?\)$/
    ],
    ['no jobs', 'name: x\n', /^p\.yml:1:1: pipeline has no 'jobs:'$/],
    [
      'pids_limit in two places',
      job(`${withImage}        pids_limit: 5\n        resources: {pids_limit: 6}\n`),
      /^p\.yml:6:9: jobs\.a\.runs-on\.with: 'pids_limit' is given both here and under 'resources'; keep one$/
    ],
    [
      'the Docker socket mounted without allow_host_access',
      job(
        `${withImage}        volumes: [{source: /var/run/docker.sock, target: /var/run/docker.sock}]\n`
      ),
      /^p\.yml:6:28: jobs\.a: mounting \/var\/run\/docker\.sock gives the job control of the Docker engine, and so of the host; set allow_host_access: true on the job to allow it$/
    ],
    [
      'services with a network_mode',
      job(`${withImage}        network: {network_mode: none}\n    services: {db: {image: pg}}\n`),
      /^p\.yml:6:33: jobs\.a: services are reached over the run's network; a job with services cannot set network_mode$/
    ],
    [
      'the Docker socket mounted into a service without allow_host_access',
      job(
        `${withImage}    services:\n      db: {image: pg, volumes: ['/var/run/docker.sock:/s']}\n`
      ),
      /^p\.yml:7:33: jobs\.a: mounting \/var\/run\/docker\.sock gives the job control of the Docker engine, and so of the host; set allow_host_access: true on the job to allow it$/
    ],
    [
      "a service's registry password written in the file",
      job(`${withImage}    services:\n      db: {image: pg, auth: {username: me, password: pw}}\n`),
      /^p\.yml:7:54: jobs\.a\.services\.db\.auth\.password: write it as \$\{VAR\} \(from the environment or a secret\), never in the file$/
    ],
    [
      "a service's mount target that is not absolute",
      job(
        `${withImage}    services:\n      db: {image: pg, volumes: [{source: ./d, target: d}]}\n`
      ),
      /^p\.yml:7:55: jobs\.a\.services\.db\.volumes\[0\]\.target must be an absolute path in the container$/
    ],
    [
      'build.push without an image name to push to',
      job('    runs-on:\n      with: {build: {context: ., push: true}}\n'),
      /^p\.yml:4:40: jobs\.a\.runs-on\.with\.build\.push needs 'image:', the name to push the build to \(e\.g\. registry\.example\.com\/team\/tool:1\.0\)$/
    ],
    [
      'a registry password written in the file',
      job(`${withImage}        auth: {username: me, password: hunter2}\n`),
      /^p\.yml:6:40: jobs\.a\.runs-on\.with\.auth\.password: write it as \$\{VAR\} \(from the environment or a secret\), never in the file$/
    ],
    [
      'an artifact glob over the whole filesystem',
      job(`${withImage}    artifacts: [/out, '/**/*.log']\n`),
      /^p\.yml:6:23: jobs\.a\.artifacts\[1\]: '\/\*\*\/\*\.log' would copy the container's whole filesystem; start it with a folder$/
    ],
    [
      'a param default of the wrong type',
      `params:\n  n: {type: int, default: many}\n${job(withImage)}`,
      /^p\.yml:2:27: params\.n\.default: expected an integer, got "many"$/
    ],
    [
      'an alias without its anchor',
      'jobs:\n  a: *nope\n',
      /^p\.yml:2:6: YAML syntax error: alias '\*nope' has no anchor/
    ],
    [
      'aliases that expand without end (billion laughs)',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\n${[...'bcdefghij']
        .map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`)
        .join('\n')}\njobs: *j\n`,
      /^p\.yml:1:1: YAML error: Excessive alias count/
    ],
    ['a file that is not a mapping', '- a\n- b\n', /^p\.yml:1:1: the pipeline must be a mapping/],
    ['empty jobs', 'jobs: {}\n', /^p\.yml:1:7: jobs must NOT have fewer than 1 properties$/],
    [
      'an image that is not a string',
      job('    runs-on:\n      with:\n        image: [a]\n'),
      /^p\.yml:5:16: jobs\.a\.runs-on\.with\.image must be a string, not a list$/
    ],
    [
      'a job without runs-on',
      job('    stages: []\n'),
      /^p\.yml:2:3: jobs\.a has no 'runs-on:': every job runs in a container; give it runs-on: \{type: container, with: \{image: IMAGE\}\}, or run with --default-image IMAGE$/
    ],
    [
      'a container without image or build',
      job('    runs-on:\n      with: {user: x}\n'),
      /^p\.yml:4:7: jobs\.a\.runs-on\.with needs 'image:' or 'build:'$/
    ],
    [
      'a memory size that is not one',
      job(`${withImage}        resources: {memory: 2 gigs}\n`),
      /^p\.yml:6:29: jobs\.a\.runs-on\.with\.resources\.memory: '2 gigs' is not a memory size/
    ],
    [
      'a CPU count that is not one',
      job(`${withImage}        resources: {cpu: lots}\n`),
      /^p\.yml:6:26: .*'lots' is not a CPU count/
    ],
    [
      'a memswap_limit that is neither a size nor -1',
      job(`${withImage}        resources: {memswap_limit: lots}\n`),
      /^p\.yml:6:36: .*memswap_limit: 'lots' is not a memory size/
    ],
    [
      'a timeout that is not a duration',
      job(`${withImage}    timeout: soon\n`),
      /^p\.yml:6:14: jobs\.a\.timeout: 'soon' is not a timeout: give seconds above 0, or a duration such as 30s, 5m, 1h30m$/
    ],
    [
      'an unknown stage type, with a suggestion',
      job(`${withImage}    stages:\n      - {name: x, type: bsh, run: x}\n`),
      /^p\.yml:7:25: jobs\.a\.stages\[0\]\.type: 'bsh' is not one of: empty, bash, sh, py, cmd, process, foreach, until, parallel, case, raise \(did you mean 'bash'\?\)$/
    ],
    [
      'a process stage without process',
      job(`${withImage}    stages:\n      - {name: x, type: process, inputs: {a: 1}}\n`),
      /^p\.yml:7:9: jobs\.a\.stages\[0\]: a 'process' stage needs 'process:'$/
    ],
    [
      'a bash stage without run',
      job(`${withImage}    stages:\n      - {name: x, type: bash}\n`),
      /^p\.yml:7:9: jobs\.a\.stages\[0\]: a 'bash' stage needs 'run:'$/
    ],
    [
      'a cmd stage without args',
      job(`${withImage}    stages:\n      - {name: x, type: cmd}\n`),
      /^p\.yml:7:9: jobs\.a\.stages\[0\]: a 'cmd' stage needs 'args:'$/
    ],
    [
      'a command that is neither a string nor a list',
      job(`${withImage}        command: {a: 1}\n`),
      /^p\.yml:6:18: jobs\.a\.runs-on\.with\.command must be a string or a list, not a mapping$/
    ],
    [
      'a list item of the wrong type inside an alternative',
      job(`${withImage}        command: [a, [b]]\n`),
      /^p\.yml:6:22: jobs\.a\.runs-on\.with\.command\[1\] must be a string or a number or true or false, not a list$/
    ],
    [
      'a relative mount target',
      job(`${withImage}        volumes: [{source: ., target: data}]\n`),
      /^p\.yml:6:39: .*target must be an absolute path/
    ],
    [
      'a mount mode that is not ro or rw',
      job(`${withImage}        volumes: [{source: ., target: /d, mode: r}]\n`),
      /^p\.yml:6:49: .*mode: 'r' is not one of: ro, rw/
    ],
    [
      'needs naming a missing job',
      job(`${withImage}    needs: [nope]\n`),
      /^p\.yml:6:13: jobs\.a\.needs names 'nope', which is not a job in this file$/
    ],
    [
      'a cycle, shown whole',
      `jobs:\n  a:\n    needs: [c]\n${withImage}  b:\n    needs: [a]\n${withImage}  c:\n    needs: [b]\n${withImage}`,
      /^p\.yml:2:3: jobs form a cycle through 'needs': a -> c -> b -> a$/
    ],
    [
      'a job that needs itself',
      `jobs:\n  a:\n    needs: a\n${withImage}`,
      /^p\.yml:2:3: jobs form a cycle through 'needs': a -> a$/
    ],
    [
      'a job id that is not plain',
      `jobs:\n  ok: {runs-on: {with: {image: x}}}\n  a/../b:\n${withImage}`,
      /^p\.yml:3:3: jobs: job id 'a\/\.\.\/b' must start with a letter/
    ],
    [
      'a duplicate job id, saying where the first is',
      `jobs:\n  a:\n${withImage}  a:\n${withImage}`,
      /^p\.yml:6:3: duplicate job id 'a' \(first at line 2\)$/
    ],
    [
      'an id field that is not the job key',
      job(`${withImage}    id: b\n`),
      /^p\.yml:6:9: jobs\.a\.id is 'b' but the job's key is 'a'; they must match$/
    ],
    [
      'a duplicate stage id',
      job(
        `${withImage}    stages:\n      - {name: x, type: empty}\n      - {name: x, type: empty}\n`
      ),
      /^p\.yml:8:9: jobs\.a\.stages\[1\]: stage 1 of this list already has the id 'x'/
    ],
    [
      'max-parallel spelt both ways',
      job(`${withImage}    strategy: {matrix: {x: [1]}, max-parallel: 2, max_parallel: 3}\n`),
      /^p\.yml:6:34: jobs\.a\.strategy: 'max-parallel' and 'max_parallel' are the same setting; keep one$/
    ],
    [
      'an empty matrix axis',
      job(`${withImage}    strategy: {matrix: {x: []}}\n`),
      /^p\.yml:6:28: jobs\.a\.strategy\.matrix\.x must NOT have fewer than 1 items$/
    ],
    [
      'a matrix axis that is a plain string',
      job(`${withImage}    strategy: {matrix: {x: abc}}\n`),
      /^p\.yml:6:28: jobs\.a\.strategy\.matrix\.x: 'abc' is not valid: An expression that gives a list/
    ]
  ])('refuses %s at its position', (_what, text, expected) => {
    const problems = problemsOf(text)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(expected)
  })

  // Each of these once passed validate and failed at run time without a position: Node's
  // timers fire at once past 2^31-1 ms, the engine's JSON decoder refuses huge numbers.
  const TIMER = 'is longer than a timer can wait: at most 596h (24.8 days)'
  const NOT_TIMEOUT = 'is not a timeout: give seconds above 0, or a duration such as 30s, 5m, 1h30m'
  it.each([
    ['    timeout: 1000h\n', '1000h', `jobs.a.timeout: '1000h' ${TIMER}`],
    ['    timeout: 1e308\n', '1e308', `jobs.a.timeout: number 1e+308 ${TIMER}`],
    ['    timeout: 2147484\n', '2147484', `jobs.a.timeout: number 2147484 ${TIMER}`],
    ['    timeout: 0\n', '0', `jobs.a.timeout: number 0 ${NOT_TIMEOUT}`],
    ['    timeout: 0s\n', '0s', `jobs.a.timeout: '0s' ${NOT_TIMEOUT}`],
    [
      '    timeout: "{{ params.t }}"\n',
      '"{{',
      "jobs.a.timeout: '{{ params.t }}' cannot be an expression: durations are read when the file is loaded; write one such as 30s or 5m"
    ],
    [
      '    stages: [{name: s, type: sh, run: x, timeout: -5}]\n',
      '-5',
      `jobs.a.stages[0].timeout: number -5 ${NOT_TIMEOUT}`
    ],
    [
      '    retry: {count: 2, delay: -1}\n',
      '-1',
      'jobs.a.retry.delay: number -1 is not a duration (examples: 30s, 5m, 1h30m, or seconds as a number)'
    ],
    [
      '        resources: {memory: 99999999999999999999999g}\n',
      '9999',
      "jobs.a.runs-on.with.resources.memory: '99999999999999999999999g' is not a memory size of at most 8 PiB (examples: 512m, 2g, 1.5Gi, or bytes as a number)"
    ],
    [
      '        resources: {memory: 1e30}\n',
      '1e30',
      'jobs.a.runs-on.with.resources.memory: number 1e+30 is more than any memory size can be (8 PiB)'
    ],
    [
      '        resources: {memory: 0.5}\n',
      '0.5',
      'jobs.a.runs-on.with.resources.memory: number 0.5 is not a memory size of at most 8 PiB (examples: 512m, 2g, 1.5Gi, or bytes as a number)'
    ],
    [
      '        resources: {pids_limit: 1e30}\n',
      '1e30',
      'jobs.a.runs-on.with.resources.pids_limit must be at most 4194304, not number 1e+30'
    ],
    [
      '        pids_limit: -2\n',
      '-2',
      'jobs.a.runs-on.with.pids_limit must be at least -1, not number -2'
    ],
    [
      '        resources: {cpu: 1e10}\n',
      '1e10',
      'jobs.a.runs-on.with.resources.cpu: number 10000000000 is more CPUs than any machine has (at most 1000000)'
    ]
  ])('refuses %j at validate, at the value', (line, needle, message) => {
    const text = job(`${withImage}${line}`)
    expect(problemsOf(text)).toEqual([`p.yml:${positionOf(text, needle, 40)}: ${message}`])
  })

  it.each([
    ['params:\n  __proto__: {default: 1}\n', '__proto__'],
    ['params:\n  p: {type: map, default: {__proto__: 1}}\n', '__proto__']
  ])('refuses a __proto__ key in %j, at the key', (head, needle) => {
    const text = `${head}${job(`${withImage}    stages: [{name: s, type: sh, run: x}]\n`)}`
    expect(problemsOf(text)[0]).toBe(
      `p.yml:${positionOf(text, needle)}: '__proto__' cannot be a key (it is the prototype of every object in JavaScript); rename it`
    )
  })

  it.each([
    [
      'image: "{{ fromJSON(\'x\') }}"',
      "jobs.a.runs-on.with.image: '{{ fromJSON('x') }}': Error parsing JSON when evaluating fromJson"
    ]
  ])('refuses %j, an expression that fails whatever the run, at validate', (value, message) => {
    const text = job(`    runs-on:\n      with:\n        ${value}\n`)
    expect(problemsOf(text)).toEqual([`p.yml:${positionOf(text, '{{')}: ${message}`])
  })

  it.each([
    ['    timeout: 596h\n'],
    ['    timeout: 2147483\n'],
    ['    timeout: 0.5\n'],
    ['    retry: {count: 2, delay: 0}\n'],
    ['        resources: {memory: 8g, pids_limit: -1, cpu: 0.5}\n'],
    ['        resources: {pids_limit: 4194304, memory: "{{ params.m }}"}\n']
  ])('accepts %j', (line) => {
    const params = line.includes('params.m') ? 'params:\n  m: {default: 1g}\n' : ''
    expect(problemsOf(`${params}${job(`${withImage}${line}`)}`)).toEqual([])
  })

  it('reports every problem at once, in file order', () => {
    const text = job(
      `    runs-on:\n      with:\n        imag: x\n        user: [1]\n    needs: [b]\n`
    )
    expect(problemsOf(text)).toEqual([
      "p.yml:4:7: jobs.a.runs-on.with needs 'image:' or 'build:'",
      "p.yml:5:9: jobs.a.runs-on.with: unknown key 'imag' (did you mean 'image'?)",
      'p.yml:6:15: jobs.a.runs-on.with.user must be a string or a whole number, not a list',
      "p.yml:7:13: jobs.a.needs names 'b', which is not a job in this file"
    ])
  })

  it.each([
    ['memory', '2g'],
    ['memory', '512m'],
    ['memory', '1.5Gi'],
    ['memory', 1073741824],
    ['cpu', '2.5'],
    ['cpu', 2],
    ['cpu', '500m'],
    ['memswap_limit', -1],
    ['memory', '{{ params.mem }}']
  ])('accepts %s: %s', (key, value) => {
    const text = `params: {mem: {default: 1g}}\n${job(`${withImage}        resources: {${key}: ${JSON.stringify(value)}}\n`)}`
    expect(problemsOf(text)).toEqual([])
  })

  it.each([
    ['"bad name ${MY_SECRET}"', 'p.yml:6:35'],
    ['"${MY_SECRET}"', 'p.yml:6:26']
  ])('refuses ${VAR} in container_name %s, at the ${', (value, at) => {
    expect(problemsOf(job(`${withImage}        container_name: ${value}\n`))).toEqual([
      `${at}: jobs.a.runs-on.with.container_name: \${VAR} cannot be used in a container name: names are shown unmasked (docker ps, the engine's events); use {{ params.* }} or {{ matrix.* }}`
    ])
  })

  it('accepts a container_name from params', () => {
    const text = `params: {n: {default: x}}\n${job(`${withImage}        container_name: "c-{{ params.n }}"\n`)}`
    expect(problemsOf(text)).toEqual([])
  })

  it('reads scalars as text where Docker wants text, and splits a string command', () => {
    const text = job(
      `${withImage}        user: 1000\n        environment: {DEBUG: true, N: 3}\n        command: --input "/data/my file.csv" -v\n`
    )
    const [a] = parsePipeline(text, 'p.yml', '/repo').jobs
    expect(a.container.user).toBe('1000')
    expect(a.container.environment).toEqual({ DEBUG: 'true', N: '3' })
    expect(a.container.command).toEqual(['--input', '/data/my file.csv', '-v'])
  })

  it('finds where jobs reach the host, by kind, at the value', () => {
    const text = job(
      `    runs-on:\n      with:\n        image: busybox\n        privileged: true\n        cap_add: [NET_ADMIN]\n` +
        `        network: {network_mode: host}\n        volumes:\n          - {source: ./data, target: /d}\n` +
        `          - {source: cache, target: /c}\n    allow_host_access: true\n` +
        `volumes: {cache: {}}\n`
    )
    const pipeline = parsePipeline(text, 'p.yml', '/repo')
    expect(pipeline.hostAccess.map((a) => [a.kind, a.line, a.hostPath])).toEqual([
      ['privileged', 6, undefined],
      ['cap_add', 7, undefined],
      ['host_network', 8, undefined],
      ['host_path', 10, '/repo/data']
    ])
  })

  it.each<[string, string, (p: Pipeline) => unknown, unknown]>([
    ['job timeout in seconds', '    timeout: 90\n', (p) => p.jobs[0].timeout_ms, 90_000],
    ['job timeout as a duration', '    timeout: 1m30s\n', (p) => p.jobs[0].timeout_ms, 90_000],
    ['no timeout', '', (p) => p.jobs[0].timeout_ms, undefined],
    ['retry as a count', '    retry: 2\n', (p) => p.jobs[0].retry, { count: 2, delay_ms: 0 }],
    [
      'retry with a delay',
      '    retry: {count: 3, delay: 500ms}\n',
      (p) => p.jobs[0].retry,
      { count: 3, delay_ms: 500 }
    ],
    ['no retry', '', (p) => p.jobs[0].retry, { count: 0, delay_ms: 0 }],
    [
      'artifacts',
      '    artifacts: [/out/report.html, "dist/**/*.whl"]\n',
      (p) => p.jobs[0].artifacts,
      ['/out/report.html', 'dist/**/*.whl']
    ],
    [
      'stage timeout',
      '    stages:\n      - {name: s, type: sh, run: "true", timeout: 2.5}\n',
      (p) => p.jobs[0].stages?.[0].timeout_ms,
      2500
    ],
    [
      'tmpfs as a list of target:options',
      '        tmpfs: [/run, "/scratch:size=8m,mode=1777"]\n',
      (p) => p.jobs[0].container.tmpfs,
      { '/run': '', '/scratch': 'size=8m,mode=1777' }
    ],
    [
      'ulimits as a number or soft and hard',
      '        ulimits: {nproc: 512, nofile: {soft: 1024, hard: 2048}}\n',
      (p) => p.jobs[0].container.ulimits,
      { nproc: { soft: 512, hard: 512 }, nofile: { soft: 1024, hard: 2048 } }
    ],
    [
      'pids_limit, shm_size and gpus directly under with',
      '        pids_limit: 64\n        shm_size: 1g\n        gpus: all\n',
      (p) => p.jobs[0].container.resources,
      { pids_limit: 64, shm_size: '1g', gpus: { count: -1, capabilities: ['gpu'] } }
    ],
    [
      'gpus as a count, and as devices',
      '        resources: {gpus: {device_ids: ["0"], capabilities: [compute]}}\n',
      (p) => p.jobs[0].container.resources.gpus,
      { device_ids: ['0'], capabilities: ['compute'] }
    ],
    [
      'named volumes',
      '    stages: []\nvolumes:\n  cache:\n  shared: {external: true, name: team}\n  opts: {driver: local, driver_opts: {type: tmpfs}, labels: {a: 1}}\n',
      (p) => p.volumes,
      {
        cache: { external: false, driver_opts: {}, labels: {} },
        shared: { external: true, name: 'team', driver_opts: {}, labels: {} },
        opts: {
          external: false,
          driver: 'local',
          driver_opts: { type: 'tmpfs' },
          labels: { a: '1' }
        }
      }
    ]
  ])('reads %s', (_what, extra, pick, expected) => {
    expect(pick(parsePipeline(job(`${withImage}${extra}`), 'p.yml', '/repo'))).toEqual(expected)
  })

  const runsOn = (keys: string) => job(`    runs-on:\n      with:\n${keys}`)
  it.each<[string, string, Partial<ContainerSpec>]>([
    ['the default pull policy', '        image: busybox\n', { pull: 'missing' }],
    ['pull: never', '        image: busybox\n        pull: never\n', { pull: 'never' }],
    [
      'auth from variables, for a registry',
      '        image: reg.example:5000/app\n        auth: {username: "${U}", password: "${P}", registry: reg.example:5000}\n',
      { auth: { username: '${U}', password: '${P}', registry: 'reg.example:5000' } }
    ],
    [
      'build as a context folder',
      '        build: ./app\n',
      { image: '', build: { context: './app', args: {} } }
    ],
    [
      'build with a Dockerfile, args and a target',
      '        build: {context: app, dockerfile: ci/Dockerfile, args: {V: 1}, target: test}\n',
      { build: { context: 'app', dockerfile: 'ci/Dockerfile', args: { V: '1' }, target: 'test' } }
    ]
  ])('reads %s', (_what, keys, expected) => {
    const [a] = parsePipeline(runsOn(keys), 'p.yml', '/repo').jobs
    expect(a.container).toMatchObject(expected)
  })
})

describe('Compose conveniences', () => {
  const containerOf = (text: string, id = 'a'): ContainerSpec =>
    parsePipeline(text, 'p.yml', '/repo').jobs.find((j) => j.id === id)!.container

  it.each([
    ['./data:/app/data:ro', { source: './data', target: '/app/data', mode: 'ro' }],
    ['./data:/app/data', { source: './data', target: '/app/data', mode: 'rw' }],
    ['cache:/cache:rw', { source: 'cache', target: '/cache', mode: 'rw' }]
  ])('reads the short mount %j as docker run -v does', (short, expected) => {
    const text = job(`${withImage}        volumes: ["${short}"]\n`)
    expect(containerOf(text).volumes).toEqual([expected])
  })

  it.each([
    ['./data', 'p.yml:6:19'],
    ['./data:app', 'p.yml:6:19'],
    ['./data:/app:z', 'p.yml:6:19']
  ])('refuses the short mount %j at its value, saying the form', (short, at) => {
    const text = job(`${withImage}        volumes: ["${short}"]\n`)
    expect(problemsOf(text)).toEqual([
      `${at}: jobs.a.runs-on.with.volumes[0]: '${short}' is not valid: SOURCE:/TARGET or SOURCE:/TARGET:ro (or :rw), as docker run -v writes it. Example: ./data:/app/data:ro`
    ])
  })

  const anchored = [
    'x-defaults: &defaults',
    '  image: busybox',
    '  environment: {A: one, B: two}',
    '  working_dir: /w',
    'jobs:',
    '  a:',
    '    runs-on:',
    '      with:',
    '        <<: *defaults',
    '        working_dir: /own',
    '  b:',
    '    x-note: kept out of the run',
    '    runs-on: {with: {<<: [*defaults], user: nobody}}',
    ''
  ].join('\n')

  it('merges keys (<<: *anchor) with the map own keys winning, and ignores x- keys', () => {
    expect(problemsOf(anchored)).toEqual([])
    const a = containerOf(anchored)
    expect([a.image, a.environment, a.working_dir]).toEqual([
      'busybox',
      { A: 'one', B: 'two' },
      '/own'
    ])
    const b = containerOf(anchored, 'b')
    expect([b.image, b.working_dir, b.user]).toEqual(['busybox', '/w', 'nobody'])
  })

  it('points a problem in a merged key at the anchor that wrote it', () => {
    const broken = anchored.replace('  working_dir: /w', '  workdir: /w')
    expect(problemsOf(broken)).toEqual([
      "p.yml:4:3: jobs.a.runs-on.with: unknown key 'workdir' (did you mean 'working_dir'?)",
      "p.yml:4:3: jobs.b.runs-on.with: unknown key 'workdir' (did you mean 'working_dir'?)"
    ])
  })

  it('still refuses an unknown key that is not an extension', () => {
    expect(problemsOf(`y-defaults: 1\n${job(withImage)}`)).toEqual([
      "p.yml:1:1: the pipeline: unknown key 'y-defaults'"
    ])
  })
})
