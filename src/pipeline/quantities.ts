const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  ki: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  ti: 1024 ** 4
}

/** The largest memory size taken: past it the engine's JSON decoder refuses the number. */
export const MAX_MEMORY_BYTES = Number.MAX_SAFE_INTEGER

/** The most CPUs a container may ask for: no machine has more. */
export const MAX_CPUS = 1_000_000

/**
 * Bytes in a memory size as `docker run` (`512m`, `2g`) or Kubernetes (`1.5Gi`) write it.
 * Units are binary, as Docker's are. Returns undefined for text that is not a size, or a
 * size above MAX_MEMORY_BYTES. The schema's `memory` pattern accepts the same forms (a
 * test holds the two together).
 */
export function parseMemory(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim())
  if (!match) return undefined
  const unit = MEMORY_UNITS[match[2].toLowerCase()]
  if (unit === undefined) return undefined
  const bytes = Math.round(Number(match[1]) * unit)
  return bytes > 0 && bytes <= MAX_MEMORY_BYTES ? bytes : undefined
}

/** Nano-CPUs (the Engine API's unit) in `1.5`, `2` or millicores `500m`; at most MAX_CPUS. */
export function parseCpu(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(text.trim())
  if (!match) return undefined
  const cpus = Number(match[1]) / (match[2] ? 1000 : 1)
  const nano = Math.round(cpus * 1e9)
  return nano > 0 && nano <= MAX_CPUS * 1e9 ? nano : undefined
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Milliseconds in `90s`, `5m`, `1h30m`, `500ms`, or a bare number of seconds. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim()
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) return undefined
  return Math.round(parts.reduce((ms, p) => ms + Number(p[1]) * DURATION_UNITS[p[2]], 0))
}

/**
 * A duration as a user would write it in the file, and as `parseDuration` reads it back:
 * `0.3s`, `45s`, `5m`, `1h30m`, `2m0.5s` (seconds to one decimal).
 */
export function formatDuration(ms: number): string {
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const secondsPart = Number(((ms % 60_000) / 1000).toFixed(1))
  const parts = [
    hours > 0 ? `${hours}h` : '',
    minutes > 0 ? `${minutes}m` : '',
    secondsPart > 0 || ms < 60_000 ? `${secondsPart}s` : ''
  ]
  return parts.join('')
}

/**
 * A memory size in the largest binary unit that divides it exactly (`32m`, `1536m`,
 * `2g`), as a user would write it in `resources.memory`.
 */
export function formatMemory(bytes: number): string {
  for (const [unit, size] of [
    ['t', 1024 ** 4],
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024]
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`
  }
  return `${bytes}b`
}

/** A byte count for a message: `512 bytes`, `1 MiB`, `600.5 MiB` (one decimal at most). */
export function describeSize(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'] as const
  if (bytes < 1024) return `${bytes} bytes`
  let value = bytes
  let unit: string = units[0]
  for (const next of units) {
    value /= 1024
    unit = next
    // Rounded, 1023.96 KiB would read 1024 KiB: that is the next unit's 1.
    if (Number(value.toFixed(1)) < 1024) break
  }
  return `${Number(value.toFixed(1))} ${unit}`
}
