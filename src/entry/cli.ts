#!/usr/bin/env node
import './dirname-shim.js'
import { main } from '../cli/cli-main.js'

const status = await main(process.argv)
// Exit once the output is out, not when the event loop empties: a request to an engine
// that stopped answering would hold the process open after the command is done.
const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write('', () => resolve()))
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit(status)
