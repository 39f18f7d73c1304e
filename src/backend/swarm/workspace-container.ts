import type Docker from 'dockerode'
import { registryOf } from '../../plan/image-plan.js'
import { errorMessage } from '../backend.js'
import type { EngineConnection } from '../engine/connection.js'
import { credentialsFromDockerConfig } from '../engine/docker-config.js'
import type { ImageClient } from '../engine/image-client.js'
import { filesArchive } from '../engine/tar-files.js'
import { BATCH_DIR, batchScript, workspaceContainerBody } from './workspace-service.js'

/**
 * The run's workspace service on the manager (workspace-service.ts): started once per
 * run, while the first jobs' tasks are created; each task waits for it (`ready`), and
 * tasks created ahead of their turn get their batch through it (`putBatch`).
 */
export class WorkspaceContainer {
  /** Settles once it runs; rejects, saying why, when it could not start. */
  private started: Promise<void> = Promise.resolve()
  private id?: string

  constructor(
    private readonly engine: EngineConnection,
    private readonly images: ImageClient,
    /** The helper image: BusyBox's `sh`, `tar` and `httpd`. */
    readonly image: string,
    /** Where the Docker config is (DOCKER_CONFIG): the login for the image's pull. */
    private readonly env: Record<string, string | undefined>
  ) {}

  /** Starts it on the run's network, pulling its image if need be; `ready` says how it went. */
  start(network: string, labels: Record<string, string>): void {
    const body = workspaceContainerBody({
      name: `${network}-workspace`,
      image: this.image,
      network,
      labels
    })
    this.started = this.create(body).catch((error: unknown) => {
      throw new Error(
        `the run's workspace container (image ${this.image}, CTR_SWARM_HELPER_IMAGE) did not start on the manager: ${errorMessage(error)}`
      )
    })
    this.started.catch(() => undefined)
  }

  /** Resolves once it runs; rejects when it could not start. */
  ready(): Promise<void> {
    return this.started
  }

  /** Puts a waiting task's batch into it: the file, then its `.ok`. */
  async putBatch(batch: string, cmd: string[], env: string[]): Promise<void> {
    await this.started
    const archive = filesArchive([
      { path: batch, content: Buffer.from(batchScript(cmd, env)) },
      { path: `${batch}.ok`, content: Buffer.alloc(0) }
    ])
    await this.engine.call('upload batch', (o) =>
      this.engine.docker.getContainer(this.id!).putArchive(archive, { path: BATCH_DIR, ...o })
    )
  }

  private async create(body: ReturnType<typeof workspaceContainerBody>) {
    if (!(await this.images.imageExists(body.Image))) {
      const auth = await credentialsFromDockerConfig(registryOf(body.Image), this.env)
      await this.images.pullImage(body.Image, auth ? { auth } : {}, () => undefined)
    }
    const { id } = await this.engine.call('create container', (o) =>
      this.engine.docker.createContainer({ ...body, ...o } as Docker.ContainerCreateOptions)
    )
    this.id = id
    await this.engine.call('start container', (o) => this.engine.docker.getContainer(id).start(o))
  }
}
