import { BUSYBOX, leftovers, NOTHING_LEFT, runYaml } from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

// 100 MB in one buffer: dd has to hold a whole block in memory, far over a 32m limit.
const ALLOCATE_100MB = 'dd if=/dev/zero of=/dev/null bs=100M count=1'

describe('how a job ended is said plainly', () => {
  it('a stage that allocates 100 MB under memory: 32m is reported as killed for memory', async () => {
    const { result } = await runYaml(`jobs:
  hungry:
    runs-on: {with: {image: ${BUSYBOX}, resources: {memory: 32m}}}
    stages:
      - {name: allocate, type: sh, run: '${ALLOCATE_100MB}'}
      - {name: after, type: sh, if: always(), run: 'exit 137'}
`)
    const [job] = result.jobs
    expect(job.status).toBe('failure')
    expect(job.oom_killed).toBe(true)
    expect(job.exit_code).toBe(137)
    expect(job.error).toBe(
      "stage 'allocate' failed: killed for memory: it hit its memory limit of 32m (resources.memory); exit code 137"
    )
    const [allocate, after] = job.stages
    expect(allocate).toMatchObject({ status: 'failure', exit_code: 137, oom_killed: true })
    // A later SIGKILL that is not for memory is not blamed on memory, nor does it
    // replace the job's exit code and flag, which are those of the stage that failed it.
    expect(after).toMatchObject({ status: 'failure', exit_code: 137, oom_killed: false })
    expect(after.error).toMatch(/^exit code 137: killed by SIGKILL/)
  })

  it('a job without stages killed for memory says so, from the engine', async () => {
    const { result } = await runYaml(`jobs:
  hungry:
    runs-on:
      with: {image: ${BUSYBOX}, command: [dd, if=/dev/zero, of=/dev/null, bs=100M, count=1], resources: {memory: 32m, memswap_limit: 32m}}
`)
    const [job] = result.jobs
    expect(job).toMatchObject({ status: 'failure', exit_code: 137, oom_killed: true })
    expect(job.error).toMatch(/^killed for memory: it hit its memory limit of 32m/)
  })

  it.each([
    [126, "'/etc/passwd'", /^exit code 126: the command was found but cannot be executed/],
    [127, 'no-such-tool', /^exit code 127: command not found/],
    [139, "'kill -SEGV $$'", /^exit code 139: segmentation fault/]
  ])('exit code %s is explained', async (code, command, message) => {
    const { result } = await runYaml(`jobs:
  exits:
    runs-on: {with: {image: ${BUSYBOX}}}
    stages: [{name: run, type: sh, run: ${command}}]
`)
    const [job] = result.jobs
    expect(job.exit_code).toBe(code)
    expect(job.oom_killed).toBe(false)
    expect(job.stages[0].error).toMatch(message)
  })
})
