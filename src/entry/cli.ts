#!/usr/bin/env node
import './dirname-shim.js'
import { main } from '../cli/cli-main.js'
import { guardRunnerLog } from '../cli/runner-log.js'

// A reader that quit (`validate | head -1`) is no error of the command: what is left to
// print is dropped, and the command ends with its own status (a run cancels itself first).
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })

// In a `run:` step of a GitHub workflow, stdout and stderr are the runner's log.
if (process.env.GITHUB_ACTIONS === 'true') {
  guardRunnerLog(process.stdout)
  guardRunnerLog(process.stderr)
}

const status = await main(process.argv)
// Exit once the output is out, not when the event loop empties: a request to an engine
// that stopped answering would hold the process open after the command is done.
const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write('', () => resolve()))
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit(status)
