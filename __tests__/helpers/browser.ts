import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import puppeteer, { type Browser } from 'puppeteer-core'

/** Where the browser tests leave what CI keeps as artifacts (screenshots). */
export const TEST_ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts')

/** Debian's package (scripts/setup.sh --with-browser installs it), Ubuntu's, and GitHub's runners' Chrome. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** The browser the tests drive: $CTR_CHROMIUM, or the first of CANDIDATES installed. */
export function chromiumPath(): string {
  const found = process.env.CTR_CHROMIUM || CANDIDATES.find((file) => existsSync(file))
  if (!found)
    throw new Error(
      `no Chromium at ${CANDIDATES.join(', ')}: run bash scripts/setup.sh --with-browser, or set CTR_CHROMIUM`
    )
  return found
}

/** Headless Chromium; as root it must run without its sandbox. */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    timeout: 30_000,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : []
  })
}

/** The path of a test artifact, its folder made. */
export function testArtifact(name: string): string {
  mkdirSync(TEST_ARTIFACTS, { recursive: true })
  return path.join(TEST_ARTIFACTS, name)
}
