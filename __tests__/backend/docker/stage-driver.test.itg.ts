import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, runYaml, tempDir } from '../../helpers/engine.js'

/** How many `event` events (`exec_create`, `start`) each container had while `fn` ran. */
async function eventsDuring(
  event: string,
  fn: () => Promise<unknown>
): Promise<Map<string, number>> {
  const since = Math.floor(Date.now() / 1000) - 1
  await fn()
  const until = Math.ceil(Date.now() / 1000) + 1
  const stream = (await docker.getEvents({
    since,
    until,
    filters: JSON.stringify({ type: ['container'], event: [event] })
  })) as NodeJS.ReadableStream
  let text = ''
  for await (const chunk of stream) text += String(chunk)
  const counts = new Map<string, number>()
  for (const line of text.split('\n').filter(Boolean)) {
    const parsed = JSON.parse(line) as { Actor: { Attributes: { name: string } } }
    const name = parsed.Actor.Attributes.name
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  return counts
}

const CHAIN = (image: string) => `jobs:
  a:
    runs-on: {with: {image: ${image}}}
    outputs: {n: "{{ stages.two.outputs.n }}"}
    stages:
      - {name: one, type: sh, run: 'echo "it''s one"; echo to-stderr >&2'}
      - {name: two, type: sh, run: 'echo n=41 >> "$CTR_OUTPUT"'}
      - {name: three, type: sh, run: 'echo "n is {{ stages.two.outputs.n }}"', timeout: 30s}
  b:
    needs: [a]
    runs-on: {with: {image: ${image}}}
    stages:
      - {name: add, type: sh, run: 'echo $(( {{ needs.a.outputs.n }} + 1 ))'}
`

/** Runs CHAIN (in `dir`), checks what it printed and passed on; its run id and execs. */
async function runChain(yaml: string, dir?: string) {
  let outcome: Awaited<ReturnType<typeof runYaml>> | undefined
  const execs = await eventsDuring(
    'exec_create',
    async () => (outcome = await runYaml(yaml, { dir }))
  )
  const { result, lines, runId } = outcome!
  expect(result.jobs.map((j) => j.status)).toEqual(['success', 'success'])
  // stdout and stderr are two streams: the order between them is not kept.
  expect(lines).toContain('[a] to-stderr')
  expect(lines.filter((l) => /^\[(a|b)\] (it's|n is|42)/.test(l))).toEqual([
    "[a] it's one",
    '[a] n is 41',
    '[b] 42'
  ])
  return { runId, execs }
}

describe("the docker backend's stage driver", () => {
  it('runs every stage of a chain of jobs without one exec, output and outputs as before', async () => {
    const { runId, execs } = await runChain(CHAIN(BUSYBOX))
    expect([...execs.keys()].filter((name) => name.includes(runId))).toEqual([])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('an image without /bin/sh gets the exec path, and runs the same pipeline', async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'image'))
    // BusyBox's sh stays on the PATH, away from /bin/sh: the stages' own `sh` still runs.
    writeFileSync(
      path.join(dir, 'image', 'Dockerfile'),
      `FROM ${BUSYBOX}\nRUN ["/bin/busybox", "sh", "-c", "mkdir -p /usr/local/bin && ln -s /bin/busybox /usr/local/bin/sh && rm /bin/sh"]\nENV PATH=/bin:/usr/local/bin\n`
    )
    const yaml = CHAIN(BUSYBOX).replaceAll(
      `{image: ${BUSYBOX}}`,
      '{image: ctr-test-no-bin-sh, build: image}'
    )
    const { runId, execs } = await runChain(yaml, dir)
    // Job a: its batch of two stages and the third; job b: its one stage.
    expect([...execs].filter(([name]) => name.includes(runId)).map(([, n]) => n)).toEqual([2, 1])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
    await docker
      .getImage('ctr-test-no-bin-sh')
      .remove()
      .catch(() => undefined)
  })

  it("a stage's timeout kills its processes only: the container runs on, a later stage runs in it", async () => {
    let outcome: Awaited<ReturnType<typeof runYaml>> | undefined
    const starts = await eventsDuring('start', async () => {
      outcome = await runYaml(`jobs:
  a:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages:
      - {name: slow, type: sh, run: 'sleep 60 & echo started; sleep 60', timeout: 1s}
      - name: after
        type: sh
        if: always()
        run: for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done | grep -c '^sleep' || true
`)
    })
    const { result, lines, runId } = outcome!
    expect(result.jobs[0].stages.map((s) => [s.id, s.status, s.timed_out, s.error])).toEqual([
      ['slow', 'failure', true, 'timed out after 1s'],
      ['after', 'success', false, undefined]
    ])
    // Both sleeps died with the stage (the driver's shell says how, as a shell does); the
    // container was started once, never again.
    expect(lines.filter((l) => /^\[a\] (?!job |stage )/.test(l))).toEqual([
      '[a] started',
      '[a] Killed',
      '[a] 0'
    ])
    expect([...starts].filter(([name]) => name.includes(runId)).map(([, n]) => n)).toEqual([1])
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })
})
