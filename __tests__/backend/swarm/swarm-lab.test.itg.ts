import type Docker from 'dockerode'
import { engineAt, lab, labEnv } from '../../helpers/swarm-lab.js'

/**
 * The three-node Swarm of scripts/swarm-lab.sh, which the Swarm backend's tests run on:
 * it comes up, spreads replicated jobs over its nodes, reports their exits and logs, and
 * leaves nothing on the host once it is down.
 */
let manager: Docker

/** What a task's inspect data tells (dockerode's type leaves it out). */
interface TaskState {
  NodeID?: string
  Status?: { State?: string; ContainerStatus?: { ExitCode?: number } }
}

beforeAll(() => {
  lab('up')
  manager = engineAt(labEnv().DOCKER_HOST)
}, 120_000)

afterAll(() => {
  lab('down')
  expect(lab('check')).toBe('')
}, 60_000)

/** Waits until a replicated job's one task has ended; returns the task. */
async function ended(serviceId: string): Promise<TaskState> {
  for (let i = 0; i < 300; i++) {
    const [task] = (await manager.listTasks({
      filters: JSON.stringify({ service: [serviceId] })
    })) as TaskState[]
    if (task && ['complete', 'failed', 'rejected'].includes(task.Status?.State ?? '')) return task
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`service ${serviceId} never ended`)
}

describe('the swarm lab', () => {
  it('has three ready nodes, one of them the manager', async () => {
    const nodes = await manager.listNodes()
    expect(nodes.map((n) => [n.Description?.Hostname, n.Status?.State]).sort()).toEqual([
      ['n1', 'ready'],
      ['n2', 'ready'],
      ['n3', 'ready']
    ])
    expect(
      nodes.filter((n) => n.ManagerStatus?.Leader).map((n) => n.Description?.Hostname)
    ).toEqual(['n1'])
  })

  it('runs replicated jobs on every node, with their exit codes and logs', async () => {
    const ids = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const service = await manager.createService({
          Name: `lab-test-${i}`,
          Labels: { 'ctr-pipeline.lab-test': 'true' },
          Mode: { ReplicatedJob: { TotalCompletions: 1, MaxConcurrent: 1 } },
          TaskTemplate: {
            ContainerSpec: {
              Image: 'ctr-fixtures/busybox:latest',
              Command: ['sh', '-c', `echo job ${i} on $(hostname); exit ${i}`]
            },
            RestartPolicy: { Condition: 'none' },
            Resources: { Limits: { MemoryBytes: 64 * 1024 * 1024 } }
          }
        } as Docker.CreateServiceOptions)
        return (service as unknown as { id: string }).id
      })
    )
    try {
      const tasks = await Promise.all(ids.map(ended))
      expect(tasks.map((t) => t.Status?.ContainerStatus?.ExitCode)).toEqual([0, 1, 2, 3, 4, 5])
      expect(tasks.map((t) => t.Status?.State)).toEqual([
        'complete',
        'failed',
        'failed',
        'failed',
        'failed',
        'failed'
      ])
      // Swarm spreads tasks over the nodes with the fewest: six jobs use all three.
      expect(new Set(tasks.map((t) => t.NodeID)).size).toBe(3)
      const logs = (await manager
        .getService(ids[2])
        .logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer
      expect(logs.toString('utf8')).toContain('job 2 on ')
    } finally {
      await Promise.all(ids.map((id) => manager.getService(id).remove()))
    }
  }, 60_000)
})
