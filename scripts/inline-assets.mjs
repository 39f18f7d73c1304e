// Writes, for each folder of shell and Python programs the product runs, an `assets.ts`
// that holds each file's text as a constant (`batch.sh` → BATCH_SH), without its comment
// lines: the bundle, the tests and tsc all read plain TypeScript, and the programs stay
// in files that shellcheck and py_compile read (`npm run lint`). With `--check`, writes
// nothing and fails when a folder's assets.ts is not what its files make.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import prettier from 'prettier'

const root = path.resolve(import.meta.dirname, '..')
/** The folders of programs, each beside the code that runs them. */
export const FOLDERS = [
  'src/backend/scripts',
  'src/backend/swarm/scripts',
  'src/scheduler/scripts',
  'src/plan/scripts',
  'src/export/shared/scripts'
]

/** A program's text as it is run: comment lines and blank lines go (a shebang stays). */
function runnable(text) {
  return text
    .split('\n')
    .filter(
      (line, i) =>
        !(line.trim() === '' || (/^\s*#/.test(line) && !(i === 0 && line.startsWith('#!'))))
    )
    .join('\n')
    .concat('\n')
}

const check = process.argv.includes('--check')
let stale = 0
for (const folder of FOLDERS) {
  const dir = path.join(root, folder)
  if (!existsSync(dir)) continue
  const files = readdirSync(dir)
    .filter((f) => /\.(sh|py)$/.test(f))
    .sort()
  const constants = files.map((file) => {
    const name = file.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()
    const text = runnable(readFileSync(path.join(dir, file), 'utf8'))
    return `/** ${folder}/${file}, as it runs. */\nexport const ${name} = ${JSON.stringify(text)}\n`
  })
  const target = path.join(dir, 'assets.ts')
  const source = [
    `// Made by scripts/inline-assets.mjs from the programs in this folder: edit those, then run`,
    `// \`npm run assets\`. \`npm run lint\` fails when this file and they differ.`,
    '',
    ...constants
  ].join('\n')
  const options = (await prettier.resolveConfig(target)) ?? {}
  const formatted = await prettier.format(source, { ...options, filepath: target })
  const current = existsSync(target) ? readFileSync(target, 'utf8') : ''
  if (current === formatted) continue
  if (check) {
    console.error(`${path.relative(root, target)} is stale: run npm run assets`)
    stale++
  } else writeFileSync(target, formatted)
}
process.exit(stale > 0 ? 1 : 0)
