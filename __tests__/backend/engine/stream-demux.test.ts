import type { OutputStream } from '../../../src/backend/backend.js'
import { streamDemuxer } from '../../../src/backend/engine/stream-demux.js'

/** One frame of the engine's multiplexed stream. */
function frame(stream: 0 | 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text)
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

/** Feeds `bytes` cut at the given offsets; returns each stream's text and the pieces seen. */
function demux(bytes: Buffer, cuts: number[]) {
  const text: Record<OutputStream, string> = { stdout: '', stderr: '' }
  const pieces: string[] = []
  const feed = streamDemuxer((stream, payload) => {
    text[stream] += payload.toString()
    pieces.push(`${stream === 'stdout' ? 'out' : 'err'}:${payload.toString()}`)
  })
  let at = 0
  for (const cut of [...cuts, bytes.length]) {
    feed(bytes.subarray(at, cut))
    at = cut
  }
  return { text, pieces }
}

const two = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n'), frame(1, 'bye\n')])

describe('streamDemuxer', () => {
  it.each<[string, Buffer, number[], string[]]>([
    ['frames in one read', two, [], ['out:hello\n', 'err:oops\n', 'out:bye\n']],
    ['a header cut in two', two, [3], ['out:hello\n', 'err:oops\n', 'out:bye\n']],
    [
      'a payload cut in two is handed on in pieces',
      two,
      [10],
      ['out:he', 'out:llo\n', 'err:oops\n', 'out:bye\n']
    ],
    ['a read that ends exactly at a header', two, [8], ['out:hello\n', 'err:oops\n', 'out:bye\n']],
    ['stdin frames count as stdout', frame(0, 'x'), [], ['out:x']],
    ['an empty frame hands on nothing', Buffer.concat([frame(1, ''), frame(2, 'e')]), [], ['err:e']]
  ])('%s', (_name, bytes, cuts, pieces) => {
    expect(demux(bytes, cuts).pieces).toEqual(pieces)
  })

  it('gives the same streams however the bytes are cut', () => {
    const frames = Buffer.concat(
      Array.from({ length: 40 }, (_, i) => frame(i % 3 === 0 ? 2 : 1, `line ${i}\n`.repeat(i)))
    )
    const whole = demux(frames, []).text
    for (const step of [1, 2, 7, 8, 9, 61]) {
      const cuts = Array.from(
        { length: Math.floor(frames.length / step) },
        (_, i) => (i + 1) * step
      )
      expect(demux(frames, cuts).text).toEqual(whole)
    }
    expect(whole.stderr).toContain('line 39\n')
  })
})
