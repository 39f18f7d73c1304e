import { prepareDockerImage, type PullProgress } from '../../src/backend/engine/images.js'
import { ConsoleReporter } from '../../src/report/console-reporter.js'

describe('a pull on a terminal: one line, changed in place', () => {
  it('the reporter draws it, clears it under a normal line, and takes it away', () => {
    const out: string[] = []
    const reporter = new ConsoleReporter({
      write: (line) => out.push(`${line}\n`),
      terminal: { write: (text: string) => out.push(text), columns: 30 }
    })
    reporter.progress!('a', 'pull a: 0/2 layers, 0.0 MB of 3.0 MB and more')
    reporter.info('build b from /x')
    reporter.progress!('a', 'pull a: 1/2 layers')
    reporter.progress!('a', undefined)
    reporter.info('done')
    expect(out).toEqual([
      '\r\x1b[2Kpull a: 0/2 layers, 0.0 MB of',
      '\r\x1b[2Kbuild b from /x\n',
      '\r\x1b[2Kpull a: 1/2 layers',
      '\r\x1b[2K',
      'done\n'
    ])
  })

  it('a reporter without a terminal has no live line: a pull says each change on a line', () => {
    expect(new ConsoleReporter({ write: () => {} }).progress).toBeUndefined()
  })

  it('the pull counts layers done and bytes, from the engine stream', async () => {
    const stream: PullProgress[] = [
      { status: 'Pulling from library/x', id: 'latest' },
      { status: 'Pulling fs layer', id: 'aaaaaaaaaaaa' },
      { status: 'Already exists', id: 'bbbbbbbbbbbb' },
      { status: 'Downloading', id: 'aaaaaaaaaaaa', current: 1_000_000, total: 4_000_000 },
      { status: 'Download complete', id: 'aaaaaaaaaaaa' },
      { status: 'Pull complete', id: 'aaaaaaaaaaaa' },
      { status: 'Status: Downloaded newer image for x:1' }
    ]
    const drawn: Array<string | undefined> = []
    const info: string[] = []
    const engine = {
      imageExists: () => Promise.resolve(false),
      pullImage: (_ref: string, _o: object, onProgress: (p: PullProgress) => void) => {
        stream.forEach(onProgress)
        return Promise.resolve()
      }
    } as unknown as Parameters<typeof prepareDockerImage>[0]
    await prepareDockerImage(
      engine,
      { kind: 'pull', ref: 'x:1', policy: 'missing' },
      {
        events: {
          info: (l) => info.push(l),
          warning: () => {},
          progress: (_key, text) => drawn.push(text)
        },
        env: { DOCKER_CONFIG: '/nonexistent' }
      }
    )
    expect(info).toEqual(['pull x:1'])
    expect(drawn).toEqual([
      'pull x:1: 0/1 layers, 0.0 MB of 0.0 MB',
      'pull x:1: 1/2 layers, 0.0 MB of 0.0 MB',
      'pull x:1: 1/2 layers, 1.0 MB of 4.0 MB',
      'pull x:1: 1/2 layers, 4.0 MB of 4.0 MB',
      'pull x:1: 2/2 layers, 4.0 MB of 4.0 MB',
      undefined
    ])
  })
})
