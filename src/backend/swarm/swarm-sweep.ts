import { LABEL_RUN_ID } from '../../plan/labels.js'
import type { KeptResources } from '../backend.js'
import { ignoreMissing, type EngineConnection } from '../engine/connection.js'
import { runResources } from '../engine/sweep.js'

/** Removes every service with the label (its tasks' containers go with it); how many there were. */
export async function removeServices(engine: EngineConnection, label: string): Promise<number> {
  const filters = JSON.stringify({ label: [label] })
  const services = await engine.call('list services', (o) =>
    engine.docker.listServices({ filters, ...o })
  )
  await Promise.all(
    services.map((s) =>
      ignoreMissing(engine.call('remove service', (o) => engine.docker.getService(s.ID!).remove(o)))
    )
  )
  return services.length
}

/** Removes the manager's own containers with the label (the workspace), with their volumes. */
export async function removeManagerContainers(
  engine: EngineConnection,
  label: string
): Promise<number> {
  const filters = JSON.stringify({ label: [label] })
  const containers = await engine.call('list containers', (o) =>
    engine.docker.listContainers({ all: true, filters, ...o })
  )
  // A task's container on the manager goes with its service, not here.
  const own = containers.filter((c) => !c.Labels['com.docker.swarm.service.id'])
  await Promise.all(
    own.map((c) =>
      ignoreMissing(
        engine.call('remove container', (o) =>
          engine.docker.getContainer(c.Id).remove({ force: true, v: true, ...o })
        )
      )
    )
  )
  return own.length
}

/** What a run left on the swarm: its services, the manager's own containers, its networks. */
export async function keptOnSwarm(engine: EngineConnection, runId: string): Promise<KeptResources> {
  const filters = JSON.stringify({ label: [`${LABEL_RUN_ID}=${runId}`] })
  const listed = runResources(engine.docker, engine.call, runId)
  const [services, containers, networks] = await Promise.all([
    engine.call('list services', (o) => engine.docker.listServices({ filters, ...o })),
    listed.containers(),
    listed.networks()
  ])
  return {
    containers: [
      ...services.map((s) => s.Spec?.Name ?? s.ID ?? ''),
      ...containers
        .filter((c) => !c.Labels['com.docker.swarm.service.id'])
        .map((c) => c.Names[0].replace(/^\//, ''))
    ].sort(),
    volumes: [],
    networks: networks.map((n) => n.Name).sort()
  }
}
