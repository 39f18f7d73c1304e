/** A value in `runs-on.with` that is wrong once its expressions are rendered. */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError'
}
