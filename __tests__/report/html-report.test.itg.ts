import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'puppeteer-core'
import { launchBrowser, testArtifact } from '../helpers/browser.js'
import { BUSYBOX, leftovers, NOTHING_LEFT } from '../helpers/engine.js'
import { CLI, runNode } from '../helpers/processes.js'

const SECRET = 'tok-4815162342'
const PIPELINE = [
  'name: report check',
  'jobs:',
  '  prep:',
  `    runs-on: {with: {image: ${BUSYBOX}, environment: {TOKEN: "\${API_KEY}"}}}`,
  '    stages:',
  '      - {name: fetch, type: sh, run: "echo fetching rows with $TOKEN; echo rows=5 >> $CTR_OUTPUT"}',
  '  test:',
  '    needs: prep',
  '    strategy: {fail_fast: false, matrix: {os: [alpine, debian, arch]}}',
  `    runs-on: {with: {image: ${BUSYBOX}}}`,
  '    stages:',
  '      - {name: build, type: sh, run: "echo building {{ matrix.os }}"}',
  `      - {name: check, type: sh, run: "test {{ matrix.os }} != debian || { echo 'debian broke <b>here</b>'; exit 3; }"}`,
  '  publish:',
  '    needs: test',
  `    runs-on: {with: {image: ${BUSYBOX}}}`,
  '    stages: [{name: push, type: sh, run: "echo never"}]',
  ''
].join('\n')

const texts = (page: Page, selector: string) =>
  page.$$eval(selector, (nodes) => nodes.map((n) => (n as HTMLElement).innerText.trim()))
const visible = (page: Page, selector: string) =>
  page.$eval(selector, (node) => (node as HTMLElement).checkVisibility())

describe('the HTML report in headless Chromium', () => {
  let browser: Browser
  let page: Page
  let report: string
  const requests: string[] = []
  const problems: string[] = []

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctr-report-itg-'))
    const file = path.join(dir, 'pipeline.yml')
    writeFileSync(file, PIPELINE)
    report = path.join(dir, 'report.html')
    const run = await runNode(CLI, ['run', file, '--report', report], { API_KEY: SECRET })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('[test (debian)] stage check: failure: exit code 3')
    browser = await launchBrowser()
    page = await browser.newPage()
    await page.setViewport({ width: 1280, height: 1400 })
    page.on('request', (request) => requests.push(request.url()))
    page.on('console', (message) => problems.push(`${message.type()}: ${message.text()}`))
    page.on('pageerror', (error) => problems.push(`error: ${(error as Error).message}`))
    await page.goto(pathToFileURL(report).href, { waitUntil: 'load' })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    expect(await leftovers()).toEqual(NOTHING_LEFT)
  })

  it('loads only itself, with no error and no policy violation', () => {
    expect(requests).toEqual([pathToFileURL(report).href])
    expect(problems).toEqual([])
  })

  it('has a row per job instance with its status, and a row per stage', async () => {
    expect(await page.title()).toBe('report check: failure · ctr-pipeline')
    const rows = await page.$$eval('tr.instance', (trs) =>
      trs.map((tr) => [tr.querySelector('td')!.innerText, tr.getAttribute('data-status')])
    )
    expect(rows).toEqual([
      ['prep', 'success'],
      ['test (alpine)', 'success'],
      ['test (debian)', 'failure'],
      ['test (arch)', 'success'],
      ['publish', 'skipped']
    ])
    expect(await page.$$eval('tr.stage', (trs) => trs.length)).toBe(7)
    expect(await texts(page, '#i-test-2 td:nth-child(6)')).toEqual(['3'])
    expect(await texts(page, '#i-prep + tr.stage td:nth-child(8)')).toEqual(['rows=5'])
    expect(
      await page.$$eval('svg.dag g.node', (gs) => gs.map((g) => g.getAttribute('class')))
    ).toEqual(['node st-success', 'node st-failure', 'node st-skipped'])
    expect(await page.$$eval('svg.timeline rect.bar', (bars) => bars.length)).toBe(4)
  })

  it("shows the failed instance's log open, the others folded, and masks the secret", async () => {
    expect(await visible(page, '#log-test-2 pre')).toBe(true)
    expect(await texts(page, '#log-test-2 pre')).toEqual([
      'building debian\ndebian broke <b>here</b>'
    ])
    expect(await visible(page, '#log-prep pre')).toBe(false)
    expect(await page.$eval('#log-prep pre', (pre) => pre.textContent)).toBe(
      'fetching rows with ***'
    )
    expect(readFileSync(report, 'utf8')).not.toContain(SECRET)
    await page.screenshot({ path: testArtifact('html-report.png'), fullPage: true })
    expect(statSync(testArtifact('html-report.png')).size).toBeGreaterThan(10_000)
  })

  it('searches the logs: shows and opens the matching ones, marks the matches, and restores', async () => {
    await page.type('#search', 'BUILDING')
    await page.waitForFunction(() => document.getElementById('hits')!.textContent !== '')
    expect(await texts(page, '#hits')).toEqual(['3 of 5 logs match, 3 matches'])
    expect(
      await page.$$eval('details.log', (logs) =>
        logs.map((d) => [d.id, (d as HTMLDetailsElement).hidden, (d as HTMLDetailsElement).open])
      )
    ).toEqual([
      ['log-prep', true, false],
      ['log-test-1', false, true],
      ['log-test-2', false, true],
      ['log-test-3', false, true],
      ['log-publish', true, false]
    ])
    expect(await texts(page, 'mark')).toEqual(['building', 'building', 'building'])
    await page.keyboard.press('Enter')
    await page.keyboard.press('Enter')
    expect(await page.$eval('mark.current', (m) => m.closest('details')!.id)).toBe('log-test-2')
    await page.$eval('#search', (input) => {
      ;(input as HTMLInputElement).value = ''
      input.dispatchEvent(new Event('input'))
    })
    await page.waitForFunction(() => document.getElementById('hits')!.textContent === '')
    expect(
      await page.$$eval('details.log', (logs) =>
        logs.map((d) => [(d as HTMLDetailsElement).hidden, (d as HTMLDetailsElement).open])
      )
    ).toEqual([
      [false, false],
      [false, false],
      [false, true],
      [false, false],
      [false, false]
    ])
    expect(await page.$$eval('mark', (marks) => marks.length)).toBe(0)
  })
})

describe('run --report', () => {
  it('refuses a report it cannot write before running anything', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctr-report-itg-'))
    const file = path.join(dir, 'pipeline.yml')
    writeFileSync(file, PIPELINE)
    const report = path.join(dir, 'missing', 'report.html')
    const run = await runNode(CLI, ['run', file, '--report', report])
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(
      `--report ${report}: cannot write the report there (its folder does not exist)\n`
    )
    expect(run.stdout).toBe('')
  })
})
