import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as tar from 'tar'
import { taskCommand } from '../../../src/backend/swarm/task-script.js'
import { taskOutput } from '../../../src/backend/task-frame.js'
import { batchScript } from '../../../src/backend/swarm/workspace-service.js'
import type { OutputStream } from '../../../src/backend/backend.js'

const MARKER = '::ctr-task-test::'

/** Runs a wrapped command with the host's sh, as a task would, in a folder of its own. */
function runTask(script: string, keep: string[] = []) {
  const root = mkdtempSync(path.join(tmpdir(), 'task-'))
  try {
    const [cmd, ...args] = taskCommand(MARKER, ['sh', '-c', script.replaceAll('$ROOT', root)])
    const result = spawnSync(cmd, args, {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        CTR_TASK_DIRS: `${root}/state\n${root}/state/s1\n${root}/work`,
        CTR_TASK_STATE: `${root}/state/s1`,
        CTR_TASK_KEEP: keep.map((k) => k.replaceAll('$ROOT', root)).join('\n')
      }
    })
    return { root, status: result.status, stdout: result.stdout, stderr: result.stderr }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/** Feeds output to a taskOutput in chunks of `size` bytes, as a log stream would cut it. */
function read(stdout: Buffer, stderr: Buffer, size: number) {
  const seen: Record<OutputStream, string> = { stdout: '', stderr: '' }
  const output = taskOutput(MARKER, (stream, chunk) => void (seen[stream] += chunk.toString()))
  for (const [stream, bytes] of [
    ['stdout', stdout],
    ['stderr', stderr]
  ] as const)
    for (let at = 0; at < bytes.length; at += size)
      output.push(stream, bytes.subarray(at, at + size))
  return { seen, frame: output.frame() }
}

describe('taskCommand and taskOutput', () => {
  it.each([1, 3, 7, 4096])(
    'hand back the output, the files and the exit code, in chunks of %i bytes',
    (size) => {
      const run = runTask(
        'echo out; printf "no newline"; echo err >&2; echo "k=v" > $ROOT/state/s1/output; test -d $ROOT/work && exit 4'
      )
      expect(run.status).toBe(4)
      const { seen, frame } = read(run.stdout, run.stderr, size)
      expect(seen).toEqual({ stdout: 'out\nno newline', stderr: 'err\n' })
      expect(frame?.exitCode).toBe(4)
      expect([...(frame?.files ?? [])].map(([f, c]) => [f, c.toString()])).toEqual([
        [`${run.root}/state/s1/output`, 'k=v\n']
      ])
    }
  )

  it('archives the artifacts that exist, relative ones from its working folder, as docker cp names them', async () => {
    const run = runTask('mkdir -p out/sub && echo a > out/sub/a.csv && echo r > $ROOT/report.txt', [
      'out',
      '$ROOT/report.txt',
      'missing',
      '.'
    ])
    const { frame } = read(run.stdout, run.stderr, 4096)
    expect(frame?.workdir).toBe(run.root)
    expect([...(frame?.archives.keys() ?? [])]).toEqual([
      `${run.root}/out`,
      `${run.root}/report.txt`,
      run.root
    ])
    const entries = async (at: string) => {
      const names: string[] = []
      await pipeline(
        Readable.from([frame!.archives.get(at)!]),
        tar.t({ onReadEntry: (e) => void names.push(`${e.path}:${e.size}`) })
      )
      return names
    }
    expect(await entries(`${run.root}/out`)).toEqual(['out/:0', 'out/sub/:0', 'out/sub/a.csv:2'])
    expect(await entries(`${run.root}/report.txt`)).toEqual(['report.txt:2'])
    const base = path.basename(run.root)
    expect(await entries(run.root)).toEqual(expect.arrayContaining([`${base}/report.txt:2`]))
  })

  it('reads what the workspace hand-off said: files sent, and what failed', () => {
    const output = taskOutput(MARKER, () => undefined)
    output.push(
      'stdout',
      Buffer.from(
        `${MARKER} sent w v1\n${MARKER} error could not send\n${MARKER} oom_kill 2\n${MARKER} exit 125\n`
      )
    )
    output.push('stderr', Buffer.from(`${MARKER} exit 125\n`))
    expect(output.frame()).toEqual({
      files: new Map(),
      archives: new Map(),
      exitCode: 125,
      sent: ['w', 'v1'],
      error: 'could not send',
      oomKills: 2
    })
  })

  it('keeps binary and multi-line file contents byte for byte', () => {
    const run = runTask('printf "a\\nb\\0\\377" > $ROOT/state/s1/annotations')
    const { frame } = read(run.stdout, run.stderr, 5)
    expect([...frame!.files.values()][0]).toEqual(Buffer.from('a\nb\0\xff', 'latin1'))
  })

  it('has no frame until both streams reached their exit line, and flush hands on what was held', () => {
    const seen: string[] = []
    const output = taskOutput(MARKER, (_s, chunk) => void seen.push(chunk.toString()))
    output.push('stdout', Buffer.from('partial\n::ctr'))
    // The newline goes at once (a live log shows the line); what may begin the frame waits.
    expect(seen).toEqual(['partial\n'])
    expect(output.frame()).toBeUndefined()
    output.flush()
    expect(seen).toEqual(['partial\n', '::ctr'])
  })
})

describe('batchScript', () => {
  it.each<[string, string[], string[]]>([
    ['plain words', ['sh', '-c', 'echo hi'], ['A=1']],
    ['quotes and $', ["it's", '"$HOME"', '`id`', '$(id)'], ["Q=it's $HOME `id`"]],
    ['newlines and empty words', ['a\nb', '', ' '], ['M=line1\nline2', 'E=']]
  ])('gives %s back word for word to the shell that evaluates it', (_name, command, env) => {
    // The variables are read by a child process: exported, not only set.
    const script = `eval "$(cat)"; for w in "$@"; do printf '[%s]' "$w"; done; exec sh -c 'printf "{%s}" "$A" "$Q" "$M" "$E"'`
    const result = spawnSync('sh', ['-c', script], {
      input: batchScript(command, env),
      env: { PATH: process.env.PATH }
    })
    const value = (name: string) => env.find((e) => e.startsWith(`${name}=`))?.slice(2) ?? ''
    expect(result.stdout.toString()).toBe(
      command.map((w) => `[${w}]`).join('') +
        ['A', 'Q', 'M', 'E'].map((n) => `{${value(n)}}`).join('')
    )
  })
})
