import './dirname-shim.js'
import { run } from '../action/action-main.js'

await run()
