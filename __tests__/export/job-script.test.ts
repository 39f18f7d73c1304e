import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  jobScript,
  shValue,
  type OutputSource,
  type ScriptStage
} from '../../src/export/shared/job-script.js'
import { placeholder, replacePlaceholders } from '../../src/export/shared/placeholders.js'
import { stageCommand } from '../../src/plan/stage-command.js'

/** Runs a job script with the host's sh, as a container would: its output files and status. */
function runScript(stages: ScriptStage[], outputs: Record<string, OutputSource> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctr-job-script-'))
  const inDir = stages.map((s, i) => ({ ...s, stateDir: path.join(dir, `stage-${i + 1}`) }))
  const outputsDir = path.join(dir, 'outputs')
  const script = jobScript('j', inDir, outputs, { kind: 'files', dir: outputsDir })
  // The container's environment has these (planContainer sets them).
  const env = {
    ...process.env,
    CTR_WORKSPACE: path.join(dir, 'workspace'),
    CTR_JOB_DIR: path.join(dir, 'workspace/jobs/j')
  }
  const run = spawnSync('sh', ['-c', script], { encoding: 'utf8', env })
  const read = (key: string) => {
    const file = path.join(outputsDir, key)
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, read }
}

const sh = (id: string, run: string, fields: Partial<ScriptStage> = {}): ScriptStage => ({
  id,
  command: stageCommand({ id, type: 'sh' }, run),
  env: {},
  runsWhen: { onSuccess: true, onFailure: false },
  continueOnError: false,
  stateDir: '',
  ...fields
})

describe('jobScript', () => {
  it('runs stages in order and hands each stage output to the job outputs', () => {
    const result = runScript(
      [
        sh('a', 'echo one; echo "x=1" >> "$CTR_OUTPUT"'),
        sh('b', 'echo two; echo "y=2" >> "$CTR_OUTPUT"')
      ],
      { x: { stage: 0, key: 'x' }, y: { stage: 1, key: 'y' }, fixed: { value: 'v w' } }
    )
    expect(result).toMatchObject({ status: 0, stdout: 'one\ntwo\n', stderr: '' })
    expect([result.read('x'), result.read('y'), result.read('fixed')]).toEqual(['1', '2', 'v w'])
  })

  it('stops at the first failed stage and exits with its status', () => {
    const result = runScript([sh('a', 'exit 3'), sh('b', 'echo never'), sh('c', 'exit 4')])
    expect(result).toMatchObject({ status: 3, stdout: '' })
  })

  it('goes on after a stage that may continue on error, and exits 0', () => {
    const result = runScript([sh('a', 'exit 5', { continueOnError: true }), sh('b', 'echo after')])
    expect(result).toMatchObject({ status: 0, stdout: 'after\n' })
    expect(result.stderr).toBe(
      'stage a failed with exit status 5; continuing (continue_on_error)\n'
    )
  })

  it.each<[string, ScriptStage['runsWhen'], string]>([
    ['always() runs after a failure', { onSuccess: true, onFailure: true }, 'ran\n'],
    ['failure() runs after a failure', { onSuccess: false, onFailure: true }, 'ran\n'],
    ['the default does not', { onSuccess: true, onFailure: false }, ''],
    ['a condition false both ways never runs', { onSuccess: false, onFailure: false }, '']
  ])('%s', (_, runsWhen, stdout) => {
    const result = runScript([sh('a', 'exit 2'), sh('b', 'echo ran', { runsWhen })])
    expect(result).toMatchObject({ status: 2, stdout })
  })

  it('runs a failure() stage only after a failure', () => {
    const result = runScript([
      sh('a', 'true'),
      sh('b', 'echo ran', { runsWhen: { onSuccess: false, onFailure: true } })
    ])
    expect(result).toMatchObject({ status: 0, stdout: '' })
  })

  it('gives each stage its own environment and state files', () => {
    const result = runScript([
      sh('a', 'echo "$CTR_STAGE_ID $GREETING"; export LEAK=1', { env: { GREETING: "it's here" } }),
      sh('b', 'echo "$CTR_STAGE_ID ${GREETING:-unset} ${LEAK:-unset}"; echo "$CTR_OUTPUT"')
    ])
    expect(result.stdout.split('\n').slice(0, 2)).toEqual(["a it's here", 'b unset unset'])
    expect(result.stdout.split('\n')[2]).toMatch(/\/stage-2\/output$/)
  })

  it('prints an empty stage echo as it is, quotes and dollars included', () => {
    const text = `it's $HOME and "quoted" \`not run\``
    const empty: ScriptStage = { ...sh('e', ''), command: [], echo: text }
    expect(runScript([empty])).toMatchObject({ status: 0, stdout: `${text}\n` })
  })

  it('runs py stages with the result.context driver', () => {
    const py: ScriptStage = {
      ...sh('p', ''),
      command: stageCommand({ id: 'p', type: 'py' }, 'result.context.update({"n": 3, "l": [1]})')
    }
    const result = runScript([py], { n: { stage: 0, key: 'n' }, l: { stage: 0, key: 'l' } })
    expect([result.status, result.read('n'), result.read('l')]).toEqual([0, '3', '[1]'])
  })
})

describe('jobScript: outputs as one JSON object (Airflow XCom)', () => {
  const tricky = 'a "quoted" \\ back\tslash\nsecond line é ✓ $HOME `x`'
  const stage = sh('a', `cat >> "$CTR_OUTPUT" <<'EOF'\nv<<END\n${tricky}\nEND\nEOF`)

  it('writes them to a file, every value exact', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctr-json-'))
    const file = path.join(dir, 'xcom/return.json')
    const script = jobScript(
      'j',
      [{ ...stage, stateDir: path.join(dir, 's1') }],
      { v: { stage: 0, key: 'v' }, fixed: { value: 'x' }, none: { stage: 0, key: 'unset' } },
      { kind: 'json-file', file }
    )
    const env = { ...process.env, CTR_WORKSPACE: dir, CTR_JOB_DIR: dir }
    expect(spawnSync('sh', ['-c', script], { env }).status).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ v: tricky, fixed: 'x', none: '' })
  })

  it('prints them as the last line of output', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctr-json-'))
    const script = jobScript(
      'j',
      [
        { ...stage, stateDir: path.join(dir, 's1') },
        sh('b', 'echo last stage', { stateDir: path.join(dir, 's2') })
      ],
      { v: { stage: 0, key: 'v' } },
      { kind: 'json-line' }
    )
    const env = { ...process.env, CTR_WORKSPACE: dir, CTR_JOB_DIR: dir }
    const lines = spawnSync('sh', ['-c', script], { env, encoding: 'utf8' }).stdout.split('\n')
    expect(lines.slice(0, -2)).toEqual(['last stage'])
    expect(JSON.parse(lines.at(-2)!)).toEqual({ v: tricky })
  })
})

describe('jobScript: upstream outputs read from files (a target that substitutes nothing)', () => {
  it('puts each file exactly where the reference was, trailing newlines, quotes and all', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctr-needs-'))
    const value = `it's "$(echo no)"\n\n`
    writeFileSync(path.join(dir, 'x'), value)
    const ref = placeholder({ kind: 'needs', job: 'up', key: 'x' })
    const stage: ScriptStage = {
      ...sh('a', ''),
      command: ['printf', '[%s]', `before\n${ref}{${ref}}\nafter\n`],
      env: { X: `<${ref}>` },
      stateDir: path.join(dir, 's1')
    }
    const then = sh('b', 'printf "%s" "$X"', { stateDir: path.join(dir, 's2') })
    const script = jobScript('j', [stage], {}, { kind: 'files', dir }, (_, key) =>
      path.join(dir, key)
    )
    const env = { ...process.env, CTR_WORKSPACE: dir, CTR_JOB_DIR: dir }
    const run = spawnSync('sh', ['-c', script], { env, encoding: 'utf8' })
    expect(run).toMatchObject({ status: 0, stdout: `[before\n${value}{${value}}\nafter\n]` })
    const withEnv = jobScript(
      'j',
      [{ ...then, env: { X: `<${ref}>` } }],
      {},
      { kind: 'files', dir },
      (_, key) => path.join(dir, key)
    )
    expect(spawnSync('sh', ['-c', withEnv], { env, encoding: 'utf8' }).stdout).toBe(`<${value}>`)
  })
})

describe('ctr_read, the output file reader of a job script', () => {
  it.each<[string, string, string, string]>([
    ['a key=value line', 'k=v\n', 'k', 'v'],
    ['the last value written wins', 'k=1\nk=2\n', 'k', '2'],
    ['a value holding = and <<', 'k=a=b<<c\n', 'k', 'a=b<<c'],
    ['a block', 'k<<EOF\nline 1\nline 2\nEOF\n', 'k', 'line 1\nline 2'],
    ['a block holding key=value lines', 'k<<EOF\nother=x\nEOF\nother=y\n', 'other', 'y'],
    ['a key whose << comes first', 'k<<E=F\nv\nE=F\n', 'k', 'v'],
    ['a file without a final newline', 'k=v', 'k', 'v'],
    ['a missing key', 'k=v\n', 'nope', ''],
    ['an empty block', 'k<<EOF\nEOF\n', 'k', '']
  ])('reads %s', (_, file, key, value) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctr-read-'))
    const stage = { ...sh('a', `cat ${shValue(path.join(dir, 'in'))} >> "$CTR_OUTPUT"`) }
    writeFileSync(path.join(dir, 'in'), file)
    expect(runScript([stage], { out: { stage: 0, key } }).read('out')).toBe(value)
  })
})

describe('shValue', () => {
  it.each<[string, string]>([
    ['plain/path-1.txt', 'plain/path-1.txt'],
    ["it's", `'it'\\''s'`],
    ['', `''`],
    ['$HOME', `'$HOME'`]
  ])('quotes %j as %s', (value, quoted) => {
    expect(shValue(value)).toBe(quoted)
  })

  it('keeps a multi-line value one word through the shell, in a here-document', () => {
    const value = 'line 1\nline 2'
    const run = spawnSync('sh', ['-c', `printf '%s' ${shValue(value)}`], { encoding: 'utf8' })
    expect(run.stdout).toBe(value)
  })

  it('keeps what an orchestrator puts for a reference one word, never shell', () => {
    const quoted = shValue(`x ${placeholder({ kind: 'param', name: 'p' })} 'y'`)
    const given = `it's "$(echo injected)" \`echo injected\``
    const script = `printf '%s' ${replacePlaceholders(quoted, () => given)}`
    const run = spawnSync('sh', ['-c', script], { encoding: 'utf8' })
    expect(run.stdout).toBe(`x ${given} 'y'`)
  })
})
