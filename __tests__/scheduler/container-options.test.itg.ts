import { DockerBackend } from '../../src/backend/docker/docker-backend.js'
import { BUSYBOX, docker, leftovers, NOTHING_LEFT, runYaml } from '../helpers/engine.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** Runs one busybox job with `options` under `runs-on.with` and one `sh` stage. */
async function runWith(options: string, script: string, keep = false) {
  const outcome = await runYaml(
    `jobs:
  probe:
    runs-on:
      with:
        image: ${BUSYBOX}
${options
  .split('\n')
  .map((line) => `        ${line}`)
  .join('\n')}
    stages:
      - {name: probe, type: sh, run: '${script}'}
`,
    { keep }
  )
  const [job] = outcome.result.jobs
  const output = outcome.lines.filter(
    (l) => l.startsWith('[probe] ') && !/^\[probe\] (job|stage) /.test(l)
  )
  return { ...outcome, job, output: output.map((l) => l.slice('[probe] '.length)) }
}

/** The kept container's inspect data, then the run's resources removed. */
async function inspectKept(runId: string) {
  const filters = JSON.stringify({ label: [`ctr-pipeline.run-id=${runId}`] })
  const [container] = await docker.listContainers({ all: true, filters })
  const info = await docker.getContainer(container.Id).inspect()
  await new DockerBackend(docker).sweep(runId)
  return info
}

describe('runs-on.with options take effect in the container', () => {
  it('pids_limit caps the processes (the cgroup says so)', async () => {
    const { job, output } = await runWith('pids_limit: 64', 'cat /sys/fs/cgroup/pids/pids.max')
    expect(job.status).toBe('success')
    expect(output).toEqual(['64'])
  })

  it('resources.shm_size sizes /dev/shm', async () => {
    const { output } = await runWith('resources: {shm_size: 64m}', 'df -k /dev/shm | tail -1')
    expect(output).toHaveLength(1)
    expect(output[0]).toMatch(/^shm +65536 /)
  })

  it('tmpfs mounts a memory filesystem with its options', async () => {
    const { output } = await runWith(
      'tmpfs: ["/scratch:size=8m"]',
      'grep " /scratch " /proc/mounts | cut -d" " -f2-4'
    )
    expect(output).toHaveLength(1)
    expect(output[0]).toMatch(/^\/scratch tmpfs .*size=8192k/)
  })

  it('ulimits set soft and hard limits', async () => {
    const { output } = await runWith(
      'ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}',
      'ulimit -n; ulimit -Hn; ulimit -u'
    )
    expect(output).toEqual(['1024', '2048', '512'])
  })

  it('read_only makes the root filesystem read-only; the workspace and outputs still work', async () => {
    const { job, output } = await runWith(
      'read_only: true',
      'touch /x 2>/dev/null || echo root is read-only; touch "$CTR_JOB_DIR/ok" && echo workspace ok; echo "r=1" >> "$CTR_OUTPUT"'
    )
    expect(job.status).toBe('success')
    expect(output).toEqual(['root is read-only', 'workspace ok'])
    expect(job.stages[0].outputs).toEqual({ r: '1' })
  })

  it('cap_drop and cap_add set the capabilities', async () => {
    const { output } = await runWith(
      'cap_drop: [ALL]\ncap_add: [CHOWN]',
      'grep CapEff /proc/self/status'
    )
    // CAP_CHOWN is bit 0, and nothing else is left.
    expect(output).toEqual(['CapEff:\t0000000000000001'])
  })

  it('privileged hands the container every capability', async () => {
    const { job, output, runId } = await runWith(
      'privileged: true',
      'grep CapEff /proc/self/status',
      true
    )
    const info = await inspectKept(runId)
    expect(info.HostConfig.Privileged).toBe(true)
    if (job.status === 'success') {
      // Docker's default set is 00000000a80425fb; privileged has every bit the kernel knows.
      expect(output).toHaveLength(1)
      expect(output[0]).toMatch(/^CapEff:\t0000[0-9a-f]{2}ffffffffff$/)
    } else {
      // This machine is itself a container without the capabilities to hand out: runc
      // refuses to start a privileged container here.
      expect(job.error).toMatch(/unable to apply caps: operation not permitted/)
    }
  })

  it('labels are put on the container, under ctr-pipeline own', async () => {
    const { runId } = await runWith(
      'labels: {team: data, "ctr-pipeline.job": forged}',
      'true',
      true
    )
    const info = await inspectKept(runId)
    expect(info.Config.Labels.team).toBe('data')
    expect(info.Config.Labels['ctr-pipeline.job']).toBe('probe')
  })

  it('platform picks the image variant: the fixtures are built for this machine only', async () => {
    const [platform, machine, other] =
      process.arch === 'arm64' ? ['arm64', 'aarch64', 'amd64'] : ['amd64', 'x86_64', 'arm64']
    const native = await runWith(`platform: linux/${platform}`, 'uname -m')
    expect(native.output).toEqual([machine])
    const foreign = await runWith(`platform: linux/${other}`, 'true')
    expect(foreign.job.status).toBe('failure')
    expect(foreign.job.error).toMatch(
      /^image 'ctr-fixtures\/busybox:latest' is not on the engine and could not be pulled/
    )
  })

  it('pull: always on an image the engine has says the engine has it, and why it is not used', async () => {
    const { job } = await runWith('pull: always', 'true')
    expect(job.status).toBe('failure')
    expect(job.error).toMatch(
      /^image 'ctr-fixtures\/busybox:latest' could not be pulled, and 'pull: always' does not take the engine's own copy \(use pull: missing for that\): /
    )
  })

  it("a CPU limit above the engine's count fails before anything starts, naming the key and the count", async () => {
    const { NCPU } = await docker.info()
    const { job, runId } = await runWith(`resources: {cpu: ${NCPU + 0.5}}`, 'true')
    expect(job.status).toBe('failure')
    expect(job.error?.replace(/^\/tmp\/ctr-test-\w+\//, '')).toBe(
      `pipeline.yml:6:26: jobs.probe.runs-on.with.resources.cpu asks for ${NCPU + 0.5} CPUs; the engine has ${NCPU}`
    )
    expect(await leftovers(runId)).toEqual(NOTHING_LEFT)
  })

  it('network_mode: host with ports warns that the ports are ignored, judged once rendered', async () => {
    const { job, output } = await runWith(
      `network: {network_mode: "{{ 'host' }}", ports: {"80": "8080"}}`,
      'true'
    )
    expect(job.status).toBe('success')
    expect(output).toEqual([
      "warning: network_mode: host ignores ports (80/tcp -> 8080): the container listens on the host's own ports"
    ])
  })

  it('network.extra_hosts and network.dns reach /etc/hosts and /etc/resolv.conf', async () => {
    // On the default bridge: on the run's network, Docker's embedded DNS (127.0.0.11)
    // answers in resolv.conf and forwards to the dns servers.
    const { output } = await runWith(
      'network: {network_mode: bridge, extra_hosts: {db.local: 10.0.0.5}, dns: [10.0.0.2]}',
      'grep db.local /etc/hosts; grep nameserver /etc/resolv.conf'
    )
    expect(output).toEqual(['10.0.0.5\tdb.local', 'nameserver 10.0.0.2'])
  })

  it('gpus asks the engine for devices (this machine has no GPU driver, and says so)', async () => {
    const { job, runId } = await runWith(
      'gpus: {count: 1, capabilities: [gpu, utility]}',
      'true',
      true
    )
    const info = await inspectKept(runId)
    expect(info.HostConfig.DeviceRequests).toEqual([
      { Driver: '', Count: 1, DeviceIDs: null, Capabilities: [['gpu', 'utility']], Options: null }
    ])
    // Where no GPU driver is installed (as here and on hosted runners) the engine says so.
    if (job.status === 'failure') {
      expect(job.error).toBe('could not select device driver "" with capabilities: [[gpu utility]]')
    }
  })

  it('allow_host_access: true lets a job mount the Docker socket (without it the file is invalid)', async () => {
    const { result, lines } = await runYaml(`jobs:
  ops:
    allow_host_access: true
    runs-on: {with: {image: ${BUSYBOX}, volumes: [{source: /var/run/docker.sock, target: /var/run/docker.sock}]}}
    stages: [{name: sock, type: sh, run: 'test -S /var/run/docker.sock && echo socket there'}]
`)
    expect(result.status).toBe('success')
    expect(lines).toContain('[ops] socket there')
  })
})
