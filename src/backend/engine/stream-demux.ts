import type { OutputStream } from '../backend.js'

const HEADER_BYTES = 8
const STDERR = 2

/**
 * The lines of a whole multiplexed log (a container's or a service's, without a TTY),
 * stdout and stderr as they came, empty lines left out. Decoded once whole, so that a
 * character cut across two frames stays whole.
 */
export function logLines(raw: Buffer): string[] {
  const payloads: Buffer[] = []
  streamDemuxer((_stream, payload) => void payloads.push(payload))(raw)
  return Buffer.concat(payloads)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
}

/**
 * Splits the engine's multiplexed attach or exec stream into stdout and stderr. Each frame
 * is an 8-byte header (the stream: 0 stdin, 1 stdout, 2 stderr; three bytes of padding; the
 * payload's length, big-endian) and its payload. Payloads are handed on as they arrive, as
 * views into the chunks read: nothing is copied, and a frame cut across reads costs nothing
 * more. (docker-modem's demuxStream copies what is left of a read after every frame, which
 * held a stage's log to about 60 MB/s.) Returns the function to feed each chunk read to.
 */
export function streamDemuxer(
  onPayload: (stream: OutputStream, payload: Buffer) => void
): (chunk: Buffer) => void {
  /** The bytes of a header cut across reads. */
  let header: Buffer | undefined
  let stream: OutputStream = 'stdout'
  /** What is left of the current frame's payload. */
  let remaining = 0
  return (chunk) => {
    let at = 0
    while (at < chunk.length) {
      if (remaining > 0) {
        const end = Math.min(chunk.length, at + remaining)
        onPayload(stream, chunk.subarray(at, end))
        remaining -= end - at
        at = end
        continue
      }
      let head: Buffer
      if (!header && chunk.length - at >= HEADER_BYTES) {
        head = chunk.subarray(at, at + HEADER_BYTES)
        at += HEADER_BYTES
      } else {
        const part = chunk.subarray(at, at + HEADER_BYTES - (header?.length ?? 0))
        at += part.length
        header = header ? Buffer.concat([header, part]) : Buffer.from(part)
        if (header.length < HEADER_BYTES) return
        head = header
        header = undefined
      }
      stream = head[0] === STDERR ? 'stderr' : 'stdout'
      remaining = head.readUInt32BE(4)
    }
  }
}
