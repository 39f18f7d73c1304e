/** A manifest the exporter made wrong: a bug of ctr-pipeline, never of the file. */
export class ExportCheckError extends Error {
  override name = 'ExportCheckError'

  constructor(target: string, problems: readonly string[]) {
    super(`the ${target} manifests failed their checks:\n${problems.join('\n')}`)
  }
}
