import { StringDecoder } from 'node:string_decoder'
import type { OutputHandler, OutputStream } from './docker-client.js'

/** A line longer than this is handed over in pieces, so one endless line cannot fill memory. */
export const MAX_LINE_CHARS = 64 * 1024

/**
 * Turns chunks of stdout and stderr into whole lines, per stream, so that reporters never
 * see half a line or a UTF-8 character cut in two. `flush` hands over an unterminated tail.
 */
export function lineSplitter(onLine: (stream: OutputStream, line: string) => void) {
  const buffers = {
    stdout: { decoder: new StringDecoder('utf8'), pending: '' },
    stderr: { decoder: new StringDecoder('utf8'), pending: '' }
  }
  const push: OutputHandler = (stream, chunk) => {
    const buffer = buffers[stream]
    const lines = (buffer.pending + buffer.decoder.write(chunk)).split('\n')
    let rest = lines.pop() ?? ''
    for (const line of lines) onLine(stream, line.endsWith('\r') ? line.slice(0, -1) : line)
    while (rest.length >= MAX_LINE_CHARS) {
      onLine(stream, rest.slice(0, MAX_LINE_CHARS))
      rest = rest.slice(MAX_LINE_CHARS)
    }
    buffer.pending = rest
  }
  const flush = () => {
    for (const stream of ['stdout', 'stderr'] as const) {
      const buffer = buffers[stream]
      const rest = buffer.pending + buffer.decoder.end()
      buffer.pending = ''
      if (rest) onLine(stream, rest)
    }
  }
  return { push, flush }
}
