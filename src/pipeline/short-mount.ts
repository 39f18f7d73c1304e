import type { VolumeSpec } from './pipeline-types.js'

/** What the short form looks like, for messages and the schema's description. */
export const SHORT_MOUNT_FORM =
  'SOURCE:/TARGET or SOURCE:/TARGET:ro (or :rw), as docker run -v writes it'

/**
 * Reads a mount written in the short form of `docker run -v` and Compose
 * (`./data:/app/data:ro`); undefined when the text is not of that form. Only `ro` and
 * `rw` are taken as modes: Docker's SELinux and propagation options have no meaning on
 * the other backends a pipeline runs on, so they are refused rather than dropped.
 */
export function parseShortMount(text: string): VolumeSpec | undefined {
  const parts = text.split(':')
  if (parts.length < 2 || parts.length > 3) return undefined
  const [source, target, mode = 'rw'] = parts
  if (source === '' || !target.startsWith('/') || (mode !== 'ro' && mode !== 'rw')) return undefined
  return { source, target, mode }
}
