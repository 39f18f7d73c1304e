import fc from 'fast-check'
import { findCycle, orderJobs, type GraphNode } from '../../src/pipeline/job-order.js'

/** `b:a c` is job b needing a and c. */
function graph(text: string): GraphNode[] {
  return text.split(' ').map((entry) => {
    const [id, needs = ''] = entry.split(':')
    return { id, needs: needs ? needs.split(',') : [] }
  })
}

/** The rule as first written (quadratic): at each step, the first declared job that is ready. */
function referenceOrder(jobs: readonly GraphNode[]): { order: string[]; blocked: string[] } {
  const order: GraphNode[] = []
  const placed = new Set<string>()
  let remaining = [...jobs]
  for (;;) {
    const next = remaining.find((j) => j.needs.every((n) => placed.has(n)))
    if (!next) return { order: order.map((j) => j.id), blocked: remaining.map((j) => j.id) }
    order.push(next)
    placed.add(next.id)
    remaining = remaining.filter((j) => j !== next)
  }
}

function ids(result: { order: GraphNode[]; blocked: GraphNode[] }) {
  return { order: result.order.map((j) => j.id), blocked: result.blocked.map((j) => j.id) }
}

describe('orderJobs', () => {
  it.each([
    ['a b c', 'a b c', ''],
    ['c:a a b', 'a c b', ''],
    ['d:c c:b b:a a', 'a b c d', ''],
    ['b:a a c', 'a b c', ''],
    ['x:a,b b a y', 'b a x y', ''],
    ['a:b b:a c', 'c', 'a b'],
    ['a:ghost b', 'b', 'a'],
    ['a:a', '', 'a'],
    ['b:a,a a', 'a b', ''],
    ['a c:a a', 'a c a', ''],
    ['', '', '']
  ])('%j is ordered %j, blocked %j', (text, order, blocked) => {
    const jobs = text === '' ? [] : graph(text)
    expect(ids(orderJobs(jobs))).toEqual({
      order: order ? order.split(' ') : [],
      blocked: blocked ? blocked.split(' ') : []
    })
  })

  it('gives the same order as the rule it implements, on any graph', () => {
    const jobs = fc
      .array(fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 3 }), { maxLength: 12 })
      .map((needs) => needs.map((n, i) => ({ id: `j${i % 10}`, needs: n.map((k) => `j${k}`) })))
    fc.assert(
      fc.property(jobs, (graphJobs) => {
        expect(ids(orderJobs(graphJobs))).toEqual(referenceOrder(graphJobs))
      })
    )
  })

  it('orders a 100,000-job chain declared backwards', () => {
    const jobs = Array.from({ length: 100_000 }, (_, i) => ({
      id: `j${i}`,
      needs: i === 99_999 ? [] : [`j${i + 1}`]
    }))
    const { order, blocked } = orderJobs(jobs)
    expect(blocked).toEqual([])
    expect(order[0].id).toBe('j99999')
    expect(order[99_999].id).toBe('j0')
  })
})

describe('findCycle', () => {
  it.each([
    ['a b:a', undefined],
    ['a:b b:a', ['a', 'b', 'a']],
    ['x:a a:c c:b b:a', ['a', 'c', 'b', 'a']],
    ['a:a', ['a', 'a']]
  ])('%j has the cycle %j', (text, cycle) => {
    expect(findCycle(graph(text))).toEqual(cycle)
  })
})
