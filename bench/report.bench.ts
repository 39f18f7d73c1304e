/**
 * The HTML report of a 256-instance run: its size, and how long headless Chromium takes
 * to open it (load, then two frames: parsed, styled, laid out and painted), against a
 * plain page carrying the same log text in one `<pre>`, opened the same way, in turn.
 * Also how long a search through every log takes to show its matches.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Page } from 'puppeteer-core'
import { launchBrowser } from '../__tests__/helpers/browser.js'
import {
  CLI,
  IMAGE,
  median,
  ms,
  pipelineFile,
  report,
  RUNS,
  workDir,
  type Figure
} from './measure.js'

const SIDE = 16
const MAX_BYTES = 2 * 1024 * 1024
const MAX_OPEN_MS = 1000
const MAX_SEARCH_MS = 250

/** 256 instances (16 x 16) of two stages printing 40 lines between them; one fails. */
function pipelineYaml(): string {
  const axis = (name: string) => Array.from({ length: SIDE }, (_, i) => `${name}${i}`).join(', ')
  return [
    'name: report bench',
    'jobs:',
    '  test:',
    `    strategy: {fail_fast: false, matrix: {os: [${axis('os')}], py: [${axis('py')}]}}`,
    `    runs-on: {with: {image: ${IMAGE}}}`,
    '    stages:',
    '      - {name: build, type: sh, run: "for i in $(seq 1 30); do echo compiling module $i of {{ matrix.os }}/{{ matrix.py }}; done"}',
    '      - {name: check, type: sh, run: "seq 1 10; test {{ matrix.os }}{{ matrix.py }} != os7py7 || { echo check failed here; exit 1; }"}',
    ''
  ].join('\n')
}

/** Milliseconds from asking for the page to its second frame after load. */
async function open(page: Page, url: string): Promise<number> {
  const started = performance.now()
  await page.goto(url, { waitUntil: 'load' })
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))
  )
  return performance.now() - started
}

/** Milliseconds from a search (Enter in the box) to the frame that shows its matches. */
async function search(page: Page, term: string): Promise<{ ms: number; hits: string }> {
  return page.evaluate(async (text) => {
    const box = document.getElementById('search') as HTMLInputElement
    box.value = text
    const started = performance.now()
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }))
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))
    return { ms: performance.now() - started, hits: document.getElementById('hits')!.textContent! }
  }, term)
}

export async function reportBench(): Promise<Figure[]> {
  const file = pipelineFile('report-bench', pipelineYaml())
  const html = path.join(workDir(), 'report.html')
  const run = spawnSync('node', [CLI, 'run', file, '--max-parallel', '8', '--report', html], {
    stdio: ['ignore', 'ignore', 'inherit']
  })
  // One instance fails on purpose: the run's status is 1.
  if (run.status !== 1) throw new Error(`the 256-instance run exited ${run.status}, not 1`)
  const page = readFileSync(html, 'utf8')
  const logText = [...page.matchAll(/<pre>([^<]*)<\/pre>/g)].map((m) => m[1]).join('\n')
  const plain = path.join(workDir(), 'plain.html')
  writeFileSync(
    plain,
    `<!doctype html><meta charset="utf-8"><title>logs</title><pre>${logText}</pre>`
  )
  const [bytes, plainBytes] = [statSync(html).size, statSync(plain).size]

  const browser = await launchBrowser()
  try {
    const tab = await browser.newPage()
    await tab.setViewport({ width: 1280, height: 900 })
    const samples = { report: [] as number[], plain: [] as number[] }
    // The first opening of each warms the browser; it is not counted.
    await open(tab, pathToFileURL(plain).href)
    await open(tab, pathToFileURL(html).href)
    for (let i = 0; i < Math.max(RUNS, 5); i++) {
      samples.plain.push(await open(tab, pathToFileURL(plain).href))
      samples.report.push(await open(tab, pathToFileURL(html).href))
    }
    const opened = median(samples.report)
    const plainOpened = median(samples.plain)
    const searches: number[] = []
    let hits = ''
    for (let i = 0; i < Math.max(RUNS, 5); i++) {
      await open(tab, pathToFileURL(html).href)
      const found = await search(tab, 'module 7 ')
      searches.push(found.ms)
      hits = found.hits
    }
    const searched = median(searches)
    return report('HTML report of a 256-instance run', [
      {
        measure: 'report size, 256 instances',
        value: `${(bytes / 1024).toFixed(0)} KiB`,
        baseline: `its logs as one plain page ${(plainBytes / 1024).toFixed(0)} KiB`,
        ratio: bytes / plainBytes,
        target: '< 2 MiB',
        met: bytes < MAX_BYTES
      },
      {
        measure: 'report opens in headless Chromium',
        value: ms(opened),
        baseline: `the plain page ${ms(plainOpened)}`,
        ratio: opened / plainOpened,
        target: '< 1 s',
        met: opened < MAX_OPEN_MS
      },
      {
        measure: `search through every log (${hits})`,
        value: ms(searched),
        baseline: `opening the report ${ms(opened)}`,
        ratio: searched / opened,
        target: `< ${MAX_SEARCH_MS} ms`,
        met: searched < MAX_SEARCH_MS
      }
    ])
  } finally {
    await browser.close()
  }
}
