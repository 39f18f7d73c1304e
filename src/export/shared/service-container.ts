import type { IContainer } from 'kubernetes-models/v1/Container'
import type { ContainerPlan } from '../../plan/container-plan.js'
import { placeholdersIn, replacePlaceholders, type Placeholder } from './placeholders.js'
import { ExportProblem, securityOf } from './pod-parts.js'

/**
 * A service as a container of the job's pod, its health check as the probe the target
 * waits on: Argo's sidecars report ready with a `readinessProbe`; a Kubernetes native
 * sidecar (an init container that keeps running) lets the job's container start only
 * after its `startupProbe`, as locally a job starts once its services are healthy.
 */
export function serviceContainer(
  key: string,
  service: ContainerPlan,
  reference: (p: Placeholder) => string,
  probe: 'readinessProbe' | 'startupProbe'
): IContainer {
  const text = (value: string) => {
    if (placeholdersIn(value).some((p) => p.kind === 'secret'))
      throw new ExportProblem(`services.${key}: '\${VAR}' reaches a service only locally`)
    return replacePlaceholders(value, reference)
  }
  if (service.image.kind !== 'pull') throw new ExportProblem(`services.${key}: not a pulled image`)
  if (service.mounts.length > 0)
    throw new ExportProblem(
      `services.${key}.volumes: a service's mounts run locally and on a Swarm, not exported yet`
    )
  const container: IContainer = {
    name: key,
    image: text(service.image.ref),
    env: Object.entries(service.env).map(([name, value]) => ({ name, value: text(value) }))
  }
  if (service.command) container.args = service.command.map(text)
  const security = securityOf(service)
  if (security) container.securityContext = security
  const ports = service.network.ports.map((p) => ({
    containerPort: Number(p.container.split('/')[0])
  }))
  if (ports.length > 0) container.ports = ports
  const check = service.healthcheck
  if (check && check.test[0] !== 'NONE') {
    const command =
      check.test[0] === 'CMD-SHELL' ? ['sh', '-c', check.test[1]] : check.test.slice(1)
    container[probe] = {
      exec: { command: command.map(text) },
      periodSeconds: Math.max(1, Math.round(check.intervalMs / 1000)),
      timeoutSeconds: Math.max(1, Math.round(check.timeoutMs / 1000)),
      failureThreshold: Math.max(1, check.retries),
      initialDelaySeconds: Math.round(check.startPeriodMs / 1000)
    }
  }
  return container
}
