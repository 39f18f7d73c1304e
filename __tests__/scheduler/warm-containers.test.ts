import type { Backend } from '../../src/backend/backend.js'
import { ContainerWarmer, type WarmContainer } from '../../src/scheduler/warm-containers.js'
import type { PlannedInstance } from '../../src/plan/pipeline-plan.js'

/** Lets the promise callbacks queued so far run. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

/**
 * A warmer over instances i0..i(n-1) whose containers are made by hand: `creating` lists
 * the instances asked for, `finish` makes one ready (or declines it).
 */
function warmer(count: number, lookahead: number) {
  const instances = Array.from({ length: count }, (_, i) => ({ id: `i${i}` }) as PlannedInstance)
  const creating: string[] = []
  const pending = new Map<string, (c: WarmContainer | undefined) => void>()
  const removed: string[] = []
  const client = { removeContainer: async (id: string) => void removed.push(id) }
  const subject = new ContainerWarmer(
    client as unknown as Backend,
    instances,
    lookahead,
    (instance) =>
      new Promise((resolve) => {
        creating.push(instance.id)
        pending.set(instance.id, resolve)
      }),
    new AbortController().signal,
    { debug: () => undefined }
  )
  const finish = async (id: string, declined = false) => {
    pending.get(id)!(declined ? undefined : { id: `c-${id}`, started: true })
    await settle()
  }
  return { subject, instances, creating, finish, removed }
}

describe('ContainerWarmer', () => {
  it('warms the next instances in order, as many as the lookahead', () => {
    const { subject, creating } = warmer(6, 2)
    subject.fill()
    subject.fill()
    expect(creating).toEqual(['i0', 'i1'])
  })

  it('warms the next wave only once every container whose turn has come is ready', async () => {
    const { subject, instances, creating, finish } = warmer(6, 2)
    subject.fill()
    const taken = [subject.take(instances[0]), subject.take(instances[1])]
    await finish('i0')
    expect(creating).toEqual(['i0', 'i1'])
    await finish('i1')
    expect(creating).toEqual(['i0', 'i1', 'i2', 'i3'])
    expect(await Promise.all(taken)).toEqual([
      { id: 'c-i0', started: true },
      { id: 'c-i1', started: true }
    ])
  })

  it('an instance it cannot warm makes way for the next in line', async () => {
    const { subject, creating, finish } = warmer(4, 2)
    subject.fill()
    await finish('i0', true)
    expect(creating).toEqual(['i0', 'i1', 'i2'])
  })

  it('removes the containers no job took, and those of discarded instances', async () => {
    const { subject, instances, finish, removed } = warmer(4, 3)
    subject.fill()
    await finish('i0')
    await finish('i1')
    await finish('i2')
    subject.discard(instances[1])
    const taken = await subject.take(instances[0])
    const done = subject.settled()
    await finish('i3')
    await done
    expect(taken?.id).toBe('c-i0')
    expect(removed.sort()).toEqual(['c-i1', 'c-i2', 'c-i3'])
  })
})
