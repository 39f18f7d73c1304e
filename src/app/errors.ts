import { EngineUnavailableError } from '../backend/backend.js'
import { InputError } from '../pipeline/input-error.js'
import { PipelineFileError } from '../pipeline/file-problems.js'
import { ExpressionError } from '../pipeline/expression.js'
import { EXIT } from './run-session.js'

/** The exit status and one message for an error that ended a command: never a stack trace. */
export function describeError(error: unknown): { status: number; message: string } {
  if (
    error instanceof PipelineFileError ||
    error instanceof InputError ||
    error instanceof ExpressionError
  ) {
    return { status: EXIT.invalid, message: error.message }
  }
  if (error instanceof EngineUnavailableError)
    return { status: EXIT.noEngine, message: error.message }
  const message = error instanceof Error ? error.message : String(error)
  return { status: EXIT.failure, message: `error: ${message}` }
}
