import type { ContainerPlan } from './container-plan.js'

/**
 * What the engine would take and then silently ignore in a planned container, one
 * warning each. Checked on the rendered plan, so `network_mode: '{{ params.mode }}'` is
 * judged by what it became.
 */
export function ignoredSettings(plan: Pick<ContainerPlan, 'network'>): string[] {
  const { mode, ports } = plan.network
  if (ports.length === 0 || (mode !== 'host' && mode !== 'none')) return []
  const published = ports
    .map((p) => `${p.container} -> ${p.hostIp ? `${p.hostIp}:` : ''}${p.hostPort || '(any)'}`)
    .join(', ')
  const why =
    mode === 'host'
      ? "the container listens on the host's own ports"
      : 'the container has no network to publish on'
  return [`network_mode: ${mode} ignores ports (${published}): ${why}`]
}
