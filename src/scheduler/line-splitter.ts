import { StringDecoder } from 'node:string_decoder'
import type { OutputHandler, OutputStream } from '../backend/backend.js'

/** A line longer than this is handed over in pieces, so one endless line cannot fill memory. */
export const MAX_LINE_CHARS = 64 * 1024

/**
 * Where to cut a line too long to hand over whole: at `MAX_LINE_CHARS`, or before a secret
 * that would straddle that point, since the masker sees one piece at a time and would find
 * neither half. A secret that starts the line is not moved past: the line is cut after it.
 */
export function cutPoint(text: string, secrets: readonly string[]): number {
  let cut = MAX_LINE_CHARS
  // Moving the cut back can put it inside another secret: look again until none straddles.
  for (let moved = true; moved;) {
    moved = false
    for (const secret of secrets) {
      // Only an occurrence that starts less than its length before the cut can straddle it;
      // so can the start of one that the text ends in (the rest of it is still to come).
      const at = occurrenceFrom(text, secret, Math.max(0, cut - secret.length + 1))
      if (at === -1 || at >= cut) continue
      if (at === 0) return Math.min(secret.length, text.length)
      cut = at
      moved = true
    }
  }
  return cut
}

/** Where `secret`, or a start of it that runs to the end of `text`, first is from `from`. */
function occurrenceFrom(text: string, secret: string, from: number): number {
  const whole = text.indexOf(secret, from)
  const tailFrom = Math.max(from, text.length - secret.length + 1)
  for (let at = tailFrom; at < text.length && (whole === -1 || at < whole); at++) {
    if (secret.startsWith(text.slice(at))) return at
  }
  return whole
}

/**
 * Turns chunks of stdout and stderr into whole lines, per stream, so that reporters never
 * see half a line, a UTF-8 character or one of `secrets` cut in two. What one chunk
 * completes is handed on as one text, its lines joined by `\n` (without the last one's),
 * so that 200 MB of logs cost a call per chunk, not per line. `flush` hands over an
 * unterminated tail.
 */
export function lineSplitter(
  onLines: (stream: OutputStream, text: string) => void,
  secrets: readonly string[] = []
) {
  const buffers = {
    stdout: { decoder: new StringDecoder('utf8'), pending: '' },
    stderr: { decoder: new StringDecoder('utf8'), pending: '' }
  }
  const push: OutputHandler = (stream, chunk) => {
    const buffer = buffers[stream]
    const text = buffer.pending + buffer.decoder.write(chunk)
    const last = text.lastIndexOf('\n')
    let rest = text
    if (last !== -1) {
      const whole = text.slice(0, last)
      onLines(
        stream,
        whole.includes('\r') ? `${whole}\n`.replaceAll('\r\n', '\n').slice(0, -1) : whole
      )
      rest = text.slice(last + 1)
    }
    while (rest.length >= MAX_LINE_CHARS) {
      const cut = cutPoint(rest, secrets)
      onLines(stream, rest.slice(0, cut))
      rest = rest.slice(cut)
    }
    buffer.pending = rest
  }
  const flush = () => {
    for (const stream of ['stdout', 'stderr'] as const) {
      const buffer = buffers[stream]
      const rest = buffer.pending + buffer.decoder.end()
      buffer.pending = ''
      if (rest) onLines(stream, rest)
    }
  }
  return { push, flush }
}
