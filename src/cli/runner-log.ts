import { neutraliseRunnerCommands } from '../report/terminal-text.js'

/**
 * Makes a stream safe for a GitHub runner's log, where the CLI runs in a `run:` step: no
 * text written to it can start a workflow command (neutraliseRunnerCommands), whatever
 * wrote it (the run's lines, a matrix value in an error, `validate`'s problems quoting the
 * file). Text is neutralised as written: each write counts as starting a line, which at
 * worst marks a `::` that was mid-line. The reporters mask secrets before they write, so
 * nothing inserted here splits a secret.
 */
export function guardRunnerLog(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean
  stream.write = ((chunk: unknown, ...rest: unknown[]) =>
    write(
      typeof chunk === 'string' ? neutraliseRunnerCommands(chunk) : chunk,
      ...rest
    )) as typeof stream.write
}
