import type { AirflowPlatform, ExportOptions, Toleration } from '../export/shared/target-options.js'
import { parseHostMap } from '../export/shared/host-map.js'
import { NameBook } from '../export/shared/k8s-names.js'
import { DROPPABLE_KEYS } from '../export/shared/pod-parts.js'
import { InputError } from '../pipeline/input-error.js'

/** The keys `--set` takes, for help and messages. */
export const SET_KEYS = [
  'namespace',
  'service_account',
  'image_pull_secrets',
  'node_selector.LABEL',
  'toleration',
  'storage_class',
  'workspace_size',
  'workspace',
  'secret',
  'efs',
  'job_queue',
  'job_role',
  'secret_arn',
  'run_name',
  'wait_image',
  'action',
  'runs_on'
]

/** What waits for a Job's needs unless `--set wait_image=` names another (README: pin it). */
export const DEFAULT_WAIT_IMAGE = 'bitnami/kubectl:latest'

/**
 * The export options from `export`'s flags: `--set KEY=VALUE` (SET_KEYS), `--map` (host
 * folders) and `--template`. An unknown key or a malformed flag is an InputError naming it.
 */
export function exportOptions(
  flags: {
    set: string[]
    map: string[]
    drop: string[]
    template?: boolean
    platform?: AirflowPlatform
  },
  pipeline: { name: string; dir: string }
): ExportOptions {
  const base = new NameBook().name(pipeline.name || 'pipeline')
  const options: ExportOptions = {
    template: flags.template ?? false,
    platform: flags.platform ?? 'kubernetes',
    workspaceSize: '1Gi',
    workspace: `${base}-workspace`,
    jobQueue: 'default',
    waitImage: DEFAULT_WAIT_IMAGE,
    action: 'OWNER/ctr-pipeline@v1',
    runsOn: 'ubuntu-latest',
    secretName: `${base}-env`,
    imagePullSecrets: [],
    nodeSelector: {},
    tolerations: [],
    maps: flags.map.map((m) => parseHostMap(m, pipeline.dir)),
    dropped: flags.drop
  }
  const unknown = flags.drop.find((key) => !DROPPABLE_KEYS.includes(key))
  if (unknown !== undefined)
    throw new InputError(
      `--drop ${unknown}: not a key an export may leave out (${DROPPABLE_KEYS.join(', ')})`
    )
  for (const flag of flags.set) {
    const equals = flag.indexOf('=')
    const key = equals > 0 ? flag.slice(0, equals) : ''
    const value = flag.slice(equals + 1)
    if (!key || value === '') throw new InputError(`--set '${flag}': expected KEY=VALUE`)
    if (key.startsWith('node_selector.')) options.nodeSelector[key.slice(14)] = value
    else if (key === 'toleration') options.tolerations.push(parseToleration(value))
    else if (key === 'namespace') options.namespace = value
    else if (key === 'service_account') options.serviceAccount = value
    else if (key === 'image_pull_secrets') options.imagePullSecrets = value.split(',')
    else if (key === 'storage_class') options.storageClass = value
    else if (key === 'workspace_size') options.workspaceSize = value
    else if (key === 'workspace') options.workspace = value
    else if (key === 'secret') options.secretName = value
    else if (key === 'efs') options.efs = value
    else if (key === 'job_queue') options.jobQueue = value
    else if (key === 'job_role') options.jobRole = value
    else if (key === 'secret_arn') options.secretArn = value
    else if (key === 'run_name') options.runName = value
    else if (key === 'wait_image') options.waitImage = value
    else if (key === 'action') options.action = value
    else if (key === 'runs_on') options.runsOn = value
    else throw new InputError(`--set ${key}: unknown key (known: ${SET_KEYS.join(', ')})`)
  }
  return options
}

const TOLERATION = /^([^=:\s]+)(?:=([^:\s]*))?(?::(NoSchedule|PreferNoSchedule|NoExecute))?$/

/** `KEY[=VALUE][:EFFECT]` as a toleration; anything else is an InputError naming the flag. */
function parseToleration(text: string): Toleration {
  const match = TOLERATION.exec(text)
  if (!match)
    throw new InputError(
      `--set toleration=${text}: expected KEY[=VALUE][:EFFECT], EFFECT one of NoSchedule, PreferNoSchedule, NoExecute`
    )
  const [, key, value, effect] = match
  return {
    key,
    operator: value === undefined ? 'Exists' : 'Equal',
    ...(value === undefined ? {} : { value }),
    ...(effect ? { effect: effect as Toleration['effect'] } : {})
  }
}
