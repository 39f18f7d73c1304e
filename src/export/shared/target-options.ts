import type { HostMap } from './host-map.js'

/** A Kubernetes toleration: `Exists` when no value is given, else `Equal`. */
export interface Toleration {
  key: string
  operator: 'Equal' | 'Exists'
  value?: string
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'
}

/** Where an Airflow DAG's tasks run (`--platform`), as in seed 000. */
export type AirflowPlatform = 'kubernetes' | 'docker'

/**
 * What `export` takes besides the file, for every target (`--set KEY=VALUE`, `--map`,
 * `--drop`, `--template`, `--platform`); each target reads the fields it has a use for.
 */
export interface ExportOptions {
  /** argo: a WorkflowTemplate to submit by name later, rather than a Workflow. */
  template: boolean
  /** airflow: the operator each job instance becomes. */
  platform: AirflowPlatform
  namespace?: string
  /** argo: of the workspace claim (and of named volumes' claims): it must offer ReadWriteMany. */
  storageClass?: string
  workspaceSize: string
  /**
   * airflow: the existing claim (kubernetes) or Docker volume (docker) that holds the
   * workspace; Airflow makes neither.
   */
  workspace: string
  /** The Secret each `${VAR}` of an environment is read from, one key per variable. */
  secretName: string
  imagePullSecrets: string[]
  serviceAccount?: string
  nodeSelector: Record<string, string>
  /** Taints every pod tolerates (`--set toleration=KEY[=VALUE][:EFFECT]`, repeatable), as in seed 004. */
  tolerations: Toleration[]
  maps: HostMap[]
  /** batch: the EFS file system that holds the workspace. */
  efs?: string
  /** batch: the queue jobs are submitted to. */
  jobQueue: string
  /** batch: the IAM role the jobs' containers act as. */
  jobRole?: string
  /** batch: the Secrets Manager secret whose JSON keys are the `${VAR}`s. */
  secretArn?: string
  /** k8s: names the run's objects and is its run id (default: the pipeline's name). */
  runName?: string
  /** k8s: the image, with sh and kubectl, of the init container that waits for a Job's needs. */
  waitImage: string
  /** github: the action each runner uses (`OWNER/ctr-pipeline@v1`); its sub-actions at the same ref. */
  action: string
  /** github: the runner label of every job. */
  runsOn: string
  /** Keys left out on purpose (`--drop`): named in what is exported. */
  dropped: string[]
}
