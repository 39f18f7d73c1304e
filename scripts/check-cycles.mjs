// Fails when files under src/ import each other in a circle (type-only imports count: a
// circle of types is still two files that cannot be understood apart), or when an import
// goes against the layers (LAYERS below, as docs/architecture.md draws them). Reads
// imports with TypeScript's own pre-processor, so `export ... from` and `import type` are
// seen too.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

const root = path.resolve(import.meta.dirname, '..', 'src')

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return entry.name.endsWith('.ts') ? [full] : []
  })
}

const files = sourceFiles(root)
const known = new Set(files)
/** Each file's imported specifiers, as written. */
const specifiers = new Map(
  files.map((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    return [file, importedFiles.map((f) => f.fileName)]
  })
)
/** Each file's imports of other files of src/ (relative specifiers, `.js` meaning `.ts`). */
const imports = new Map(
  files.map((file) => {
    const targets = specifiers
      .get(file)
      .filter((name) => name.startsWith('.'))
      .map((name) => path.resolve(path.dirname(file), name).replace(/\.js$/, '.ts'))
      .filter((target) => known.has(target))
    return [file, targets]
  })
)

/**
 * What each folder of src/ may not import (folders, or packages), and why. The layers go
 * one way: pipeline -> plan -> scheduler -> backend -> report -> app -> entries.
 */
const LAYERS = [
  [
    'pipeline/',
    ['plan/', 'scheduler/', 'backend/', 'report/', 'app/', 'export/', 'cli/', 'action/', 'entry/'],
    'the file model reads nothing downstream'
  ],
  [
    'plan/',
    ['scheduler/', 'backend/', 'report/', 'app/', 'export/', 'cli/', 'action/', 'entry/'],
    'planning is pure'
  ],
  [
    'export/',
    ['scheduler/', 'backend/', 'report/', 'app/', 'cli/', 'action/', 'entry/'],
    'exports are pure: the plan in, text out'
  ],
  [
    'scheduler/',
    [
      'backend/docker/',
      'backend/swarm/',
      'backend/engine/',
      'backend/fake/',
      'report/',
      'app/',
      'cli/',
      'action/',
      'entry/',
      'dockerode'
    ],
    'the scheduler holds only the Backend interface'
  ],
  [
    'backend/swarm/',
    ['backend/docker/'],
    'both backends stand on backend/engine/, not on each other'
  ],
  [
    'backend/docker/',
    ['backend/swarm/'],
    'both backends stand on backend/engine/, not on each other'
  ],
  [
    'backend/',
    ['report/', 'app/', 'cli/', 'action/', 'entry/'],
    'backends report through BackendEvents'
  ],
  [
    'report/',
    [
      'backend/docker/',
      'backend/swarm/',
      'backend/engine/',
      'app/',
      'cli/',
      'action/',
      'entry/',
      'dockerode'
    ],
    'reports read results, not engines'
  ],
  ['app/', ['cli/', 'action/', 'entry/'], 'the app serves both faces and knows neither'],
  [
    'cli/',
    ['action/', 'backend/docker/', 'backend/swarm/', 'backend/engine/', 'dockerode'],
    'a face translates flags; only app/ makes a backend'
  ],
  [
    'action/',
    ['cli/', 'backend/docker/', 'backend/swarm/', 'backend/engine/', 'dockerode'],
    'a face translates inputs; only app/ makes a backend'
  ]
]
/** dockerode, only where an engine client lives. */
const DOCKERODE_HOMES = ['backend/engine/', 'backend/docker/', 'backend/swarm/']

const inSrc = (file) => path.relative(root, file)
const against = []
for (const file of files) {
  const from = inSrc(file)
  const targets = [
    ...imports.get(file).map(inSrc),
    ...specifiers.get(file).filter((name) => !name.startsWith('.') && !name.startsWith('node:'))
  ]
  for (const target of targets) {
    if (target === 'dockerode' && !DOCKERODE_HOMES.some((home) => from.startsWith(home)))
      against.push(
        `${from} imports dockerode: only ${DOCKERODE_HOMES.join(', ')} talk to an engine`
      )
    for (const [folder, forbidden, why] of LAYERS) {
      if (!from.startsWith(folder)) continue
      const hit = forbidden.find((f) => target === f || target.startsWith(f))
      if (hit) against.push(`${from} imports ${target}: ${why}`)
    }
  }
}

// Tarjan's strongly connected components: each component of more than one file (or a
// file that imports itself) is a circle.
let counter = 0
const index = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const circles = []
function visit(file) {
  index.set(file, counter)
  low.set(file, counter)
  counter += 1
  stack.push(file)
  onStack.add(file)
  for (const target of imports.get(file)) {
    if (!index.has(target)) {
      visit(target)
      low.set(file, Math.min(low.get(file), low.get(target)))
    } else if (onStack.has(target)) {
      low.set(file, Math.min(low.get(file), index.get(target)))
    }
  }
  if (low.get(file) !== index.get(file)) return
  const component = []
  let member
  do {
    member = stack.pop()
    onStack.delete(member)
    component.push(member)
  } while (member !== file)
  if (component.length > 1 || imports.get(file).includes(file)) circles.push(component)
}
for (const file of files) if (!index.has(file)) visit(file)

const relative = (file) => path.relative(path.dirname(root), file)
if (circles.length > 0) {
  for (const circle of circles)
    console.error(`import cycle: ${circle.map(relative).sort().join(' <-> ')}`)
  process.exit(1)
}
if (against.length > 0) {
  for (const line of [...new Set(against)]) console.error(`against the layers: ${line}`)
  process.exit(1)
}
console.log(
  `no import cycles in ${files.length} files under src/, and every import goes with the layers`
)
