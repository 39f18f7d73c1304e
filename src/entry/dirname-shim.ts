// ssh2 (pulled in by the Docker client library) reads __dirname, which an ESM bundle lacks: define it
// before anything else is evaluated.
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
;(globalThis as Record<string, unknown>).__dirname ??= dirname(fileURLToPath(import.meta.url))
