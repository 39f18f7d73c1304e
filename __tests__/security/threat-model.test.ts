import { readFileSync } from 'node:fs'
import path from 'node:path'
import {
  HOST_EFFECTS,
  threatModelBlock,
  withThreatModel,
  type HostEffectId
} from '../../src/pipeline/threat-model.js'

const root = path.resolve(import.meta.dirname, '../..')

/**
 * The test of each row of the threat model: its file and words of its title. Typed by
 * the rows' ids, so a row added without a test does not compile, and each test is read
 * back from its file below, so a test renamed or removed fails here.
 */
const TESTED_BY: Record<HostEffectId, [file: string, title: string]> = {
  bind_mount: ['scheduler/untrusted.test.itg.ts', 'refuses a committed symlink to %s'],
  git_metadata: ['security/untrusted-host.test.itg.ts', "hides the checkout's .git"],
  artifact_files: ['security/untrusted-host.test.itg.ts', 'writes no artifact through a link'],
  output_files: ['security/cli-hardening.test.ts', 'refuses output paths through the checkout'],
  image_build: ['security/untrusted-file.test.ts', '3 and 7: a build'],
  image_push: ['security/untrusted-file.test.ts', '4: a push'],
  image_pull: ['security/untrusted-host.test.itg.ts', 'pulls anonymously'],
  registry_credentials: ['security/untrusted-host.test.itg.ts', 'pulls anonymously'],
  registry_auth: ['security/untrusted-file.test.ts', "5: the runner's token through auth:"],
  environment_variable: ['security/untrusted-file.test.ts', 'a variable in an image name'],
  engine_objects: ['cli/chaos.test.itg.ts', 'nothing left, images included'],
  container_privileges: ['security/untrusted-file.test.ts', '18: ulimits that change the kernel'],
  host_resources: ['scheduler/untrusted.test.itg.ts', 'runs what it allows, bounded'],
  host_network: ['scheduler/untrusted.test.itg.ts', 'refuses a network mode that %s makes host'],
  labels: ['security/untrusted-host.test.itg.ts', 'refuses a label that holds a secret'],
  runner_log: ['security/untrusted-output.test.ts', 'starts no line with :: from a matrix value'],
  workflow_commands: ['action/input-helper.test.ts', 'the file cannot allow them for itself'],
  terminal_escapes: ['security/untrusted-output.test.ts', 'strips colour from an untrusted run'],
  job_summary: ['report/step-summary.test.ts', 'keeps every fence its own'],
  runner_files: [
    'action/sized-outputs.test.ts',
    'replaces job outputs over its limit by a pointer'
  ],
  secret_exposure: ['security/untrusted-host.test.itg.ts', 'is on no host process'],
  image_describe: ['security/untrusted-host.test.itg.ts', 'kills a describe call that hangs'],
  trust_decision: ['action/input-helper.test.ts', 'trusts exactly the events the docs list']
}

describe('the threat model (docs/security.md)', () => {
  it.each(HOST_EFFECTS.map((row) => [row.id, row.tested] as const))(
    '%s has a test, run where its row says (%s)',
    (id, tested) => {
      const [file, title] = TESTED_BY[id]
      expect(file.endsWith('.test.itg.ts') === (tested === 'engine')).toBe(true)
      expect(readFileSync(path.join(root, '__tests__', file), 'utf8')).toContain(title)
    }
  )

  it('is in the docs as the code has it (npm run docs writes it)', () => {
    const page = readFileSync(path.join(root, 'docs/security.md'), 'utf8')
    expect(page).toBe(withThreatModel(page, threatModelBlock()))
  })

  it('has one row per id', () => {
    const ids = HOST_EFFECTS.map((row) => row.id)
    expect(ids.length).toBe(new Set(ids).size)
  })
})
