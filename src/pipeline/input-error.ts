/**
 * Something the user gave is invalid: a param value, a flag, an action input. Like a
 * PipelineFileError it ends a command with exit status 2, before anything runs.
 */
export class InputError extends Error {
  override name = 'InputError'
}
