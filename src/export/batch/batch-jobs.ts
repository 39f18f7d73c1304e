import type Batch from 'aws-sdk/clients/batch.js'
import type { MountPlan } from '../../plan/container-plan.js'
import { stringify } from '../../pipeline/template.js'
import type { ExportInstance, ExportJob, ExportPlan } from '../shared/export-plan.js'
import { mappedPath } from '../shared/host-map.js'
import { eachJobAfterSuccess, workspaceScript } from '../shared/after-success.js'
import { NameBook } from '../shared/k8s-names.js'
import {
  onlySecret,
  placeholder,
  placeholdersIn,
  replacePlaceholders
} from '../shared/placeholders.js'
import { ExportProblem, tmpfsBytes } from '../shared/pod-parts.js'
import type { ExportOptions } from '../shared/target-options.js'

/** What `export --to batch` prints: the inputs of RegisterJobDefinition and of SubmitJob, in order. */
export interface BatchDocument {
  jobDefinitions: Batch.RegisterJobDefinitionRequest[]
  /**
   * In submission order; each `dependsOn[].jobId` holds the `jobName` of an earlier job,
   * which the submitter replaces with the id SubmitJob returned for it.
   */
  jobs: Batch.SubmitJobRequest[]
}

/**
 * The pipeline as AWS Batch job definitions and job submissions: one definition and one
 * job per job instance (a matrix's instances may differ in image and mounts, which one
 * array job's definition cannot), `dependsOn` from `needs`, the workspace an EFS file
 * system (`--set efs=fs-ID`) mounted at `/ctr`. Batch runs a job only when everything it
 * depends on succeeded, so `always()` and `failure()` are errors; a job whose `if:` is
 * false either way is left out with the jobs that need it, as it would be skipped.
 */
export function batchJobs(plan: ExportPlan, options: ExportOptions): BatchDocument {
  const names = new NameBook()
  const prefix = names.name(plan.name || 'pipeline')
  const instancesOf = new Map<string, string[]>()
  const document: BatchDocument = { jobDefinitions: [], jobs: [] }
  const target = {
    name: 'batch',
    dropped: options.dropped,
    runsAfter: 'Batch runs a job only after everything it depends on succeeded'
  }
  eachJobAfterSuccess(plan, target, (job) => {
    const dependsOn = job.needs.flatMap((n) => instancesOf.get(n)!).map((jobId) => ({ jobId }))
    const made = job.instances.map((instance) => {
      const definition = jobDefinition(instance, job, plan, options, `${prefix}-${instance.slug}`)
      const submit: Batch.SubmitJobRequest = {
        jobName: names.name(instance.slug),
        jobQueue: options.jobQueue,
        jobDefinition: definition.jobDefinitionName
      }
      if (dependsOn.length > 0) submit.dependsOn = dependsOn
      return { definition, submit }
    })
    for (const { definition, submit } of made) {
      document.jobDefinitions.push(definition)
      document.jobs.push(submit)
    }
    instancesOf.set(
      job.id,
      made.map((m) => m.submit.jobName)
    )
  })
  return document
}

/** A value Batch takes as it is: it substitutes nothing, so a reference has no place. */
function fixed(text: string, field: string): string {
  const found = placeholdersIn(text)
  if (found.length === 0) return text
  const what =
    found[0].kind === 'needs'
      ? 'a needs output'
      : found[0].kind === 'param'
        ? 'a param'
        : 'the run id'
  if (found[0].kind === 'secret')
    throw new ExportProblem(
      `${field}: '\${VAR}' comes from Secrets Manager only as a whole environment value`
    )
  throw new ExportProblem(
    `${field}: Batch substitutes nothing in a job definition, so ${what} has no value there (a stage reads an upstream output from the workspace)`
  )
}

function jobDefinition(
  instance: ExportInstance,
  job: ExportJob,
  plan: ExportPlan,
  options: ExportOptions,
  name: string
): Batch.RegisterJobDefinitionRequest {
  const c = instance.container
  if (Object.keys(instance.services).length > 0)
    throw new ExportProblem('services: a Batch job is one container')
  if (c.image.kind !== 'pull')
    throw new ExportProblem(
      'build: Batch pulls its images: name the built image with image (and push it there)'
    )
  if (!options.efs)
    throw new ExportProblem(
      'the workspace must be shared storage the jobs all mount: --set efs=fs-ID (an EFS file system)'
    )
  // Batch substitutes nothing and passes nothing between jobs: params are written as
  // their value, and what only a run knows stays a placeholder for fixed() to refuse.
  const bare = (text: string) =>
    replacePlaceholders(text, (p) =>
      p.kind === 'param' ? stringify(plan.params[p.name]) : placeholder(p)
    )
  const script = workspaceScript(plan, job, instance, 'Batch')
  const environment: Batch.EnvironmentVariables = []
  const secrets: Batch.SecretList = []
  for (const [key, value] of Object.entries(c.env)) {
    const secret = onlySecret(value)
    if (secret !== undefined) {
      if (!options.secretArn)
        throw new ExportProblem(
          `environment ${key}: '\${${secret}}' comes from Secrets Manager: --set secret_arn=ARN of a secret holding it as a JSON key`
        )
      secrets.push({ name: key, valueFrom: `${options.secretArn}:${secret}::` })
    } else if (key === 'CTR_RUN_ID') {
      // Batch's own id of the job stands in for the run id.
      continue
    } else environment.push({ name: key, value: fixed(bare(value), `environment ${key}`) })
  }
  const r = c.resources
  const requirements: Batch.ResourceRequirements = [
    { type: 'VCPU', value: String(r.cpus ?? 1) },
    { type: 'MEMORY', value: String(Math.ceil((r.memoryBytes ?? 2048 * 1024 ** 2) / 1024 ** 2)) }
  ]
  if (r.gpus) {
    if (r.gpus.count < 1)
      throw new ExportProblem('gpus: Batch takes a number of GPUs, not all or by id')
    requirements.push({ type: 'GPU', value: String(r.gpus.count) })
  }
  const unsupported = [
    r.memoryReservationBytes !== undefined && 'memory_reservation',
    r.cpuReservation !== undefined && 'cpu_reservation',
    r.memorySwapBytes !== undefined && 'memswap_limit',
    r.cpusetCpus !== undefined && 'cpuset_cpus',
    r.pidsLimit !== undefined && 'pids_limit',
    c.security.capDrop.length > 0 && 'cap_drop',
    c.security.capAdd.length > 0 && 'cap_add',
    c.network.ports.length > 0 && 'network.ports',
    c.network.extraHosts.length > 0 && 'network.extra_hosts',
    c.network.dns.length > 0 && 'dns',
    c.placement && 'placement',
    c.workingDir && !script && 'working_dir',
    job.retry.count > 0 && job.retry.delay_ms > 0 && 'retry.delay'
  ].filter((key): key is string => typeof key === 'string' && !options.dropped.includes(key))
  if (unsupported.length > 0)
    throw new ExportProblem(
      `${unsupported.join(', ')}: a Batch job definition takes no such setting`
    )
  if (!['ctr-run', 'bridge', 'default'].includes(c.network.mode))
    throw new ExportProblem(`network_mode: ${c.network.mode}: Batch picks the job's network itself`)
  const volumes: Batch.Volumes = [
    {
      name: 'workspace',
      efsVolumeConfiguration: { fileSystemId: options.efs, transitEncryption: 'ENABLED' }
    }
  ]
  const mountPoints: Batch.MountPoints = []
  const tmpfs: Batch.TmpfsList = []
  c.mounts.forEach((mount, i) => {
    const made = batchMount(mount, i, plan.hostMounts[job.id] ?? [], c.mounts, options)
    if ('tmpfs' in made) tmpfs.push(made.tmpfs)
    else {
      mountPoints.push(made.mountPoint)
      if (made.volume) volumes.push(made.volume)
    }
  })
  const workingDir = c.workingDir ? `cd '${c.workingDir.replaceAll("'", `'\\''`)}' || exit 1\n` : ''
  const container: Batch.ContainerProperties = {
    image: fixed(c.image.ref, 'image'),
    command: script
      ? ['sh', '-c', fixed(bare(workingDir + script), 'stages')]
      : c.command?.map((a) => fixed(bare(a), 'command')),
    environment,
    resourceRequirements: requirements,
    volumes,
    mountPoints
  }
  if (secrets.length > 0) container.secrets = secrets
  if (c.user) container.user = c.user
  if (c.security.privileged) container.privileged = true
  if (c.security.readOnlyRootfs) container.readonlyRootFilesystem = true
  if (options.jobRole) container.jobRoleArn = options.jobRole
  if (r.ulimits.length > 0)
    container.ulimits = r.ulimits.map((u) => ({
      name: u.name,
      softLimit: u.soft,
      hardLimit: u.hard
    }))
  const linux: Batch.LinuxParameters = {}
  if (r.shmSizeBytes !== undefined) linux.sharedMemorySize = Math.ceil(r.shmSizeBytes / 1024 ** 2)
  if (tmpfs.length > 0) linux.tmpfs = tmpfs
  if (Object.keys(linux).length > 0) container.linuxParameters = linux
  const definition: Batch.RegisterJobDefinitionRequest = {
    jobDefinitionName: name,
    type: 'container',
    containerProperties: container,
    tags: { 'managed-by': 'ctr-pipeline', source: plan.file }
  }
  if (job.retry.count > 0)
    definition.retryStrategy = { attempts: Math.min(10, job.retry.count + 1) }
  // Batch refuses a timeout under 60 s.
  if (job.timeoutSeconds !== undefined)
    definition.timeout = { attemptDurationSeconds: Math.max(60, job.timeoutSeconds) }
  return definition
}

function batchMount(
  mount: MountPlan,
  index: number,
  hostMounts: ExportPlan['hostMounts'][string],
  mounts: readonly MountPlan[],
  options: ExportOptions
): { mountPoint: Batch.MountPoint; volume?: Batch.Volume } | { tmpfs: Batch.Tmpfs } {
  switch (mount.type) {
    case 'workspace':
      return { mountPoint: { sourceVolume: 'workspace', containerPath: mount.target } }
    case 'volume':
      throw new ExportProblem(
        `volumes: the named volume ${mount.source} has no counterpart on Batch (use the workspace)`
      )
    case 'tmpfs': {
      const bytes = tmpfsBytes(mount)
      if (bytes === undefined)
        throw new ExportProblem(`tmpfs ${mount.target}: Batch needs a size (size=64m)`)
      return { tmpfs: { containerPath: mount.target, size: Math.ceil(bytes / 1024 ** 2) } }
    }
    case 'bind': {
      const bindIndex = mounts.slice(0, index).filter((m) => m.type === 'bind').length
      const mapped = mappedPath(mount.source, options.maps)
      if (!mapped || mapped.map.to.kind !== 'hostPath')
        throw new ExportProblem(
          `the host folder ${mount.source} is not on Batch's instances: map it with --map ${mount.source}=hostPath:/PATH (a folder of the instance)`,
          hostMounts[bindIndex]
        )
      const name = `host-${index}`
      const sourcePath = [mapped.map.to.path, mapped.rest].filter(Boolean).join('/')
      return {
        mountPoint: { sourceVolume: name, containerPath: mount.target, readOnly: mount.readOnly },
        volume: { name, host: { sourcePath } }
      }
    }
  }
}
