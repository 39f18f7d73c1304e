import { spawn } from 'node:child_process'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from '@jest/globals'
import { DRIVER_ENTRYPOINT, StageDriver } from '../../../src/backend/docker/stage-driver.js'
import type { OutputStream } from '../../../src/backend/backend.js'

/** A stage driver over the host's own shell, run as a container's main process would be. */
function hostDriver() {
  const [shell, ...args] = DRIVER_ENTRYPOINT
  // Its own process group, so that a kill also takes what its commands left running.
  const child = spawn(shell, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  const driver = new StageDriver(child.stdin, {})
  child.stdout.on('data', (chunk: Buffer) => void driver.output('stdout', chunk))
  child.stderr.on('data', (chunk: Buffer) => void driver.output('stderr', chunk))
  child.on('exit', () => driver.end())
  const kill = () => process.kill(-child.pid!, 'SIGKILL')
  return { driver, child, kill }
}

function collect() {
  const seen: Record<OutputStream, string> = { stdout: '', stderr: '' }
  return { seen, onOutput: (s: OutputStream, c: Buffer) => void (seen[s] += c.toString()) }
}

describe('StageDriver over a real shell', () => {
  it.each<[string, string[], string[], { stdout: string; stderr: string }, number]>([
    ['plain words', ['echo', 'a', 'b'], [], { stdout: 'a b\n', stderr: '' }, 0],
    [
      'quotes, $, backticks and newlines stay one word each',
      ['printf', '[%s]\\n', `it's`, '$HOME `id`', 'two\nlines', ''],
      [],
      { stdout: `[it's]\n[$HOME \`id\`]\n[two\nlines]\n[]\n`, stderr: '' },
      0
    ],
    [
      'env is exported to the command only',
      ['sh', '-c', 'echo "$GREETING"; echo err >&2; exit 3'],
      ['GREETING=it\'s "here"'],
      { stdout: `it's "here"\n`, stderr: 'err\n' },
      3
    ],
    [
      'output without a last newline',
      ['printf', 'no newline'],
      [],
      { stdout: 'no newline', stderr: '' },
      0
    ],
    [
      'a command reading stdin gets nothing (never the next command)',
      ['sh', '-c', 'cat; echo read-done'],
      [],
      { stdout: 'read-done\n', stderr: '' },
      0
    ],
    ['a command that does not exist', ['no-such-command-xyz'], [], { stdout: '', stderr: '' }, 127]
  ])('%s', async (_name, argv, env, expected, exitCode) => {
    const { driver, kill } = hostDriver()
    const { seen, onOutput } = collect()
    expect(await driver.run(argv, env, onOutput)).toBe(exitCode)
    if (exitCode === 127) expect(seen.stderr).toMatch(/no-such-command-xyz/)
    else expect(seen).toEqual(expected)
    expect(driver.idle).toBe(true)
    kill()
  })

  it('runs commands one after another; a second one while busy is refused; the variables of one do not leak into the next', async () => {
    const { driver, kill } = hostDriver()
    const first = collect()
    const running = driver.run(
      ['sh', '-c', 'sleep 0.2; echo first'],
      ['ONLY_FIRST=1'],
      first.onOutput
    )
    expect(driver.idle).toBe(false)
    await expect(driver.run(['true'], [], () => undefined)).rejects.toThrow(
      'the stage driver is busy or gone'
    )
    let settled = false
    void driver.settled().then(() => (settled = true))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(settled).toBe(false)
    expect(await running).toBe(0)
    await driver.settled()
    const second = collect()
    expect(await driver.run(['sh', '-c', 'echo "[${ONLY_FIRST-}]"'], [], second.onOutput)).toBe(0)
    expect([first.seen.stdout, second.seen.stdout]).toEqual(['first\n', '[]\n'])
    kill()
  })

  it('a command whose shell dies fails with the container stopping; the driver is then gone', async () => {
    const { driver, kill } = hostDriver()
    const { seen, onOutput } = collect()
    const running = driver.run(['sh', '-c', 'echo before; sleep 5'], [], onOutput)
    setTimeout(() => kill(), 300)
    await expect(running).rejects.toThrow('its container stopped while it ran')
    expect(seen.stdout).toBe('before\n')
    expect(driver.idle).toBe(false)
  })

  it('after its stdin closes the driver idles (tail -f /dev/null) instead of ending', async () => {
    const { driver, child, kill } = hostDriver()
    driver.close()
    const exited = await Promise.race([
      new Promise((resolve) => child.on('exit', () => resolve('exited'))),
      new Promise((resolve) => setTimeout(() => resolve('idling'), 500))
    ])
    expect(exited).toBe('idling')
    kill()
  })
})

describe('StageDriver framing', () => {
  it('hands on output cut anywhere, a marker cut across chunks included, and ends at the frame', async () => {
    const input = new PassThrough()
    const driver = new StageDriver(input, {})
    const { seen, onOutput } = collect()
    const done = driver.run(['x'], [], onOutput)
    const marker = /printf '%s exit %s\\n' '([^']+)'/.exec(String(input.read()))![1]
    const stdout = Buffer.from(`line one\npartial:${marker} exit 4\n`)
    for (let at = 0; at < stdout.length; at += 5)
      void driver.output('stdout', stdout.subarray(at, at + 5))
    expect(driver.idle).toBe(false)
    void driver.output('stderr', Buffer.from(`oops\n${marker} exit 4\n`))
    expect(await done).toBe(4)
    expect(seen).toEqual({ stdout: 'line one\npartial:', stderr: 'oops\n' })
    // What a background process of a finished command prints belongs to nobody.
    void driver.output('stdout', Buffer.from('late\n'))
    expect(seen.stdout).toBe('line one\npartial:')
  })

  it('is not idle while a handler holds the stream back, even once its command ended', async () => {
    const input = new PassThrough()
    const driver = new StageDriver(input, {})
    let release = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const done = driver.run(['x'], [], () => held)
    const marker = /printf '%s exit %s\\n' '([^']+)'/.exec(String(input.read()))![1]
    expect(driver.output('stdout', Buffer.from(`last line\n${marker} exit 0\n`))).toBe(held)
    void driver.output('stderr', Buffer.from(`${marker} exit 0\n`))
    expect(await done).toBe(0)
    // Paused on `held`: a command now would never get its output; it takes an exec.
    expect(driver.idle).toBe(false)
    release()
    await held
    await new Promise((resolve) => setImmediate(resolve))
    expect(driver.idle).toBe(true)
  })
})
