// Fails when files under src/ import each other in a circle (type-only imports count: a
// circle of types is still two files that cannot be understood apart). Reads imports with
// TypeScript's own pre-processor, so `export ... from` and `import type` are seen too.
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
/** Each file's imports of other files of src/ (relative specifiers, `.js` meaning `.ts`). */
const imports = new Map(
  files.map((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const targets = importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => path.resolve(path.dirname(file), name).replace(/\.js$/, '.ts'))
      .filter((target) => known.has(target))
    return [file, targets]
  })
)

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
console.log(`no import cycles in ${files.length} files under src/`)
