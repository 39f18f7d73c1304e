/**
 * What one BuildKit status message (`moby.buildkit.trace`: a base64 protobuf
 * `StatusResponse` of moby/buildkit's control API) says, in the parts a build log needs:
 * steps (vertexes) that started, were cached, completed or failed, and their output.
 */
export interface BuildkitStatus {
  vertexes: BuildkitVertex[]
  logs: Array<{ vertex: string; text: string }>
}

export interface BuildkitVertex {
  digest: string
  /** The step as the CLI shows it: `[stage-0 2/3] RUN make`, `[internal] load metadata...`. */
  name: string
  cached: boolean
  started: boolean
  completed: boolean
  error?: string
}

/**
 * Decodes a status message. Only the fields read here are decoded (a small wire-format
 * reader instead of a protobuf runtime and BuildKit's schema for four fields); any other
 * field is skipped by its wire type, so newer engines' additions do no harm.
 */
export function decodeBuildkitStatus(base64: string): BuildkitStatus {
  const status: BuildkitStatus = { vertexes: [], logs: [] }
  for (const [field, value] of fields(Buffer.from(base64, 'base64'))) {
    if (!Buffer.isBuffer(value)) continue
    if (field === 1) status.vertexes.push(vertex(value))
    else if (field === 3) status.logs.push(log(value))
  }
  return status
}

// Vertex: 1 digest, 3 name, 4 cached, 5 started, 6 completed, 7 error.
function vertex(bytes: Buffer): BuildkitVertex {
  const v: BuildkitVertex = {
    digest: '',
    name: '',
    cached: false,
    started: false,
    completed: false
  }
  for (const [field, value] of fields(bytes)) {
    if (field === 1) v.digest = String(value)
    else if (field === 3) v.name = String(value)
    else if (field === 4) v.cached = value === 1
    else if (field === 5) v.started = true
    else if (field === 6) v.completed = true
    else if (field === 7 && String(value) !== '') v.error = String(value)
  }
  return v
}

// VertexLog: 1 vertex, 4 msg.
function log(bytes: Buffer): { vertex: string; text: string } {
  const entry = { vertex: '', text: '' }
  for (const [field, value] of fields(bytes)) {
    if (field === 1) entry.vertex = String(value)
    else if (field === 4) entry.text = String(value)
  }
  return entry
}

/** The fields of a protobuf message: varints as numbers, length-delimited ones as bytes. */
function* fields(bytes: Buffer): Generator<[number, number | Buffer]> {
  let at = 0
  const varint = () => {
    let value = 0
    let shift = 0
    for (;;) {
      if (at >= bytes.length) throw new Error('truncated BuildKit status message')
      const byte = bytes[at++]
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
      shift += 7
    }
  }
  while (at < bytes.length) {
    const key = varint()
    const field = Math.floor(key / 8)
    switch (key & 7) {
      case 0:
        yield [field, varint()]
        break
      case 1:
        at += 8
        break
      case 2: {
        const length = varint()
        if (at + length > bytes.length) throw new Error('truncated BuildKit status message')
        yield [field, bytes.subarray(at, at + length)]
        at += length
        break
      }
      case 5:
        at += 4
        break
      default:
        throw new Error(`BuildKit status message: wire type ${key & 7} not known`)
    }
  }
}
