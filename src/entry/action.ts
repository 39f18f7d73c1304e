import './dirname-shim.js'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { run } from '../action/action-main.js'

export { run }

// The runner starts the bundle as a program; @github/local-action imports it and calls run().
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await run()
