import type { Backend, BackendEvents, ImageRun } from '../backend/backend.js'
import type { ImageSource } from '../plan/image-plan.js'
import { imageReferenceProblem } from '../pipeline/image-reference.js'

/**
 * A run's images, each made ready once however many jobs use it (the backend pulls or
 * builds it), and the builds in flight, which the run's sweep waits for.
 */
export class ImageStore {
  private readonly ready = new Map<string, Promise<string | undefined>>()
  private readonly builds: Promise<unknown>[] = []

  constructor(
    private readonly backend: Backend,
    private readonly events: BackendEvents,
    /** Where registry logins come from (ImageRun). */
    private readonly logins: Pick<ImageRun, 'env' | 'anonymous'>,
    /** The run's cancel: builds in flight are stopped, so none is tagged after the sweep. */
    private readonly signal?: AbortSignal
  ) {}

  /**
   * Resolves once every build asked for has ended, however: the run's sweep waits for this,
   * since a build that ends after the sweep listed the run's tags would leave one. (Pulls
   * leave nothing of the run's, so a slow one does not hold the sweep.)
   */
  async settled(): Promise<void> {
    await Promise.allSettled(this.builds)
  }

  /**
   * Resolves once the image is ready, to what was pushed (`name@sha256:…`) for a build
   * with `push`; rejects with one line saying why not.
   */
  prepare(image: ImageSource): Promise<string | undefined> {
    // Rendered names are checked here, before the engine's own answer to `my image`
    // (Node's "Request path contains unescaped characters") could be the message.
    const name = image.kind === 'pull' ? image.ref : image.name
    const problem = name === undefined ? undefined : imageReferenceProblem(name)
    if (problem) return Promise.reject(new Error(`image '${name}' ${problem}`))
    const key =
      image.kind === 'build' ? image.ref : `${image.ref} ${image.platform ?? ''} ${image.policy}`
    let ready = this.ready.get(key)
    if (!ready) {
      ready = this.backend.prepareImage(image, {
        events: this.events,
        ...this.logins,
        ...(this.signal ? { signal: this.signal } : {})
      })
      if (image.kind === 'build') this.builds.push(ready)
      this.ready.set(key, ready)
    }
    return ready
  }
}
