#!/usr/bin/env node
import './dirname-shim.js'
import { main } from '../cli/cli-main.js'

process.exitCode = await main(process.argv)
