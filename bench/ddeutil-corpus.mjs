#!/usr/bin/env node
// Measures how many of ddeutil-workflow's own workflow texts `ctr-pipeline validate`
// accepts, and why the others fail. ddeutil's repository cannot be fetched in CI, so this
// is run by hand against a checkout of it (docs/ and tests/ are enough):
//
//   node bench/ddeutil-corpus.mjs DDEUTIL_CHECKOUT [CLI] [--list] [--default-image IMAGE]
//
// CLI defaults to this checkout's dist/cli/index.js. The texts are every YAML file under
// docs/ and tests/conf/, every ```yaml block of docs/**/*.md, and every triple-quoted
// string of tests/**/*.py that holds `type: Workflow`. A text holding several workflows
// (`NAME: {type: Workflow, ...}`) counts each, validated alone: its own lines, cut out.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMap, isScalar, parseDocument } from 'yaml'

const [checkout, cliArg, ...flags] = process.argv.slice(2)
if (!checkout) {
  console.error('usage: node bench/ddeutil-corpus.mjs DDEUTIL_CHECKOUT [CLI] [--list]')
  process.exit(2)
}
const here = path.dirname(fileURLToPath(import.meta.url))
const cli = cliArg && !cliArg.startsWith('--') ? cliArg : path.join(here, '../dist/cli/index.js')
const all = [cliArg, ...flags]
const list = all.includes('--list')
const imageAt = all.indexOf('--default-image')
const defaultImage = imageAt >= 0 ? ['--default-image', all[imageAt + 1]] : []

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name)
    return statSync(file).isDirectory() ? walk(file) : [file]
  })
}

/** [origin, text] for every candidate text. */
function texts() {
  const out = []
  for (const file of walk(checkout)) {
    const rel = path.relative(checkout, file)
    if (/\.ya?ml$/.test(file) && (rel.startsWith('docs/') || rel.startsWith('tests/conf/')))
      out.push([rel, readFileSync(file, 'utf8')])
    else if (rel.startsWith('docs/') && file.endsWith('.md')) {
      const blocks = readFileSync(file, 'utf8').matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)
      let i = 0
      for (const [, block] of blocks) out.push([`${rel}#${++i}`, block])
    } else if (rel.startsWith('tests/') && file.endsWith('.py')) {
      let i = 0
      for (const [, body] of readFileSync(file, 'utf8').matchAll(/"""([\s\S]*?)"""/g))
        if (body.includes('type: Workflow')) out.push([`${rel}#${++i}`, dedent(body)])
    }
  }
  return out
}

function dedent(text) {
  const lines = text.split('\n')
  const indents = lines.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length)
  const cut = Math.min(...indents)
  return lines.map((l) => l.slice(cut)).join('\n')
}

/** The workflows of a text, each as a text of its own; none when it is not a workflow. */
function workflows(text) {
  const doc = parseDocument(text)
  const root = doc.contents
  if (doc.errors.length > 0 || !isMap(root)) return doc.errors.length > 0 ? [[undefined, text]] : []
  if (root.items.some((pair) => isScalar(pair.key) && pair.key.value === 'jobs'))
    return [[undefined, text]]
  return root.items
    .filter(({ value }) => {
      const type = isMap(value) ? value.get('type') : undefined
      return isMap(value) && (type === 'Workflow' || value.has('jobs'))
    })
    .map(({ key, value }) => [String(key.value), text.slice(key.range[0], value.range[2])])
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'ddeutil-corpus-'))
const reasons = new Map()
let total = 0
let valid = 0
let n = 0
for (const [origin, text] of texts()) {
  for (const [name, own] of workflows(text)) {
    const file = path.join(dir, `${++n}.yml`)
    writeFileSync(file, own)
    total += 1
    const args = ['validate', file, ...defaultImage]
    let output = ''
    try {
      execFileSync('node', [cli, ...args], { encoding: 'utf8', stdio: 'pipe' })
      valid += 1
      if (list) console.log(`ok   ${origin}${name ? ` ${name}` : ''}`)
      continue
    } catch (error) {
      output = `${error.stdout ?? ''}${error.stderr ?? ''}`
    }
    const messages = output
      .split('\n')
      .filter((line) => line.startsWith(file))
      .map((line) => line.slice(file.length).replace(/^:\d+:\d+: /, ''))
    if (list) console.log(`FAIL ${origin}${name ? ` ${name}` : ''}\n  ${messages.join('\n  ')}`)
    for (const message of new Set(messages.map(kind)))
      reasons.set(message, (reasons.get(message) ?? 0) + 1)
  }
}

/** A message with its names and values taken out, so alike ones count together. */
function kind(message) {
  return message
    .replace(/'([^']*)'/g, (all, inner) => (/^[\w.:-]{1,24}$/.test(inner) ? all : "'…'"))
    .replace(/jobs\.[\w.[\]-]+/g, 'jobs.…')
    .replace(/\[\d+\]/g, '[N]')
    .replace(/\(known: [^)]*\)/, '(known: …)')
    .replace(/^params\.[\w-]+/, 'params.…')
}

console.log(`${valid} of ${total} workflow texts validate`)
for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1]))
  console.log(`${String(count).padStart(4)}  ${reason}`)
