// Writes the parts of docs/ that are generated from the code: the threat model's table in
// docs/security.md, between its markers. `npm run docs`; a unit test fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { threatModelBlock, withThreatModel } from '../src/pipeline/threat-model.js'

const file = path.resolve(import.meta.dirname, '..', 'docs', 'security.md')
const before = readFileSync(file, 'utf8')
const after = withThreatModel(before, threatModelBlock())
if (after !== before) writeFileSync(file, after)
process.stdout.write(`${after === before ? 'unchanged' : 'written'}: ${file}\n`)
