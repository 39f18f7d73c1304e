import { describe, expect, it } from '@jest/globals'
import { Painter, useColour } from '../../src/report/colours.js'
import { ConsoleReporter } from '../../src/report/console-reporter.js'
import type { PlannedInstance } from '../../src/plan/pipeline-plan.js'

describe('useColour', () => {
  it.each<[string, boolean, Record<string, string>, boolean]>([
    ['a terminal', true, {}, true],
    ['a pipe', false, {}, false],
    ['a terminal with NO_COLOR', true, { NO_COLOR: '1' }, false],
    ['NO_COLOR set empty counts as unset (no-color.org)', true, { NO_COLOR: '' }, true],
    ['a pipe with FORCE_COLOR', false, { FORCE_COLOR: '1' }, true],
    ['a terminal with FORCE_COLOR=0', true, { FORCE_COLOR: '0' }, false],
    ['NO_COLOR wins over FORCE_COLOR', false, { NO_COLOR: '1', FORCE_COLOR: '1' }, false]
  ])('%s', (_name, isTTY, env, expected) => {
    expect(useColour({ isTTY }, env)).toBe(expected)
  })
})

describe('Painter', () => {
  it.each<[string, string, string]>([
    ['build', '\x1b[95m[build]\x1b[39m', 'bright magenta'],
    ['deploy', '\x1b[36m[deploy]\x1b[39m', 'cyan'],
    ['prep', '\x1b[34m[prep]\x1b[39m', 'blue'],
    ['test (2)', '\x1b[96m[test (2)]\x1b[39m', 'bright cyan']
  ])('paints [%s] in the colour its id gives it: %s (%s)', (id, painted) => {
    expect([new Painter(true).job(id), new Painter(true).job(id)]).toEqual([painted, painted])
    expect(new Painter(false).job(id)).toBe(`[${id}]`)
  })

  it.each<[string, string]>([
    ['success', '\x1b[32msuccess\x1b[39m'],
    ['failure', '\x1b[31mfailure\x1b[39m'],
    ['cancelled', '\x1b[33mcancelled\x1b[39m'],
    ['skipped', '\x1b[90mskipped\x1b[39m'],
    ['running', 'running']
  ])('paints the status word %s', (word, painted) => {
    expect(new Painter(true).status(word)).toBe(painted)
  })
})

describe('ConsoleReporter with colour', () => {
  it('paints the job prefix of every output line and the status of a finished job', () => {
    const lines: string[] = []
    const reporter = new ConsoleReporter({ write: (l) => lines.push(l), colour: true })
    const job = { id: 'build', slug: 'build' } as PlannedInstance
    reporter.output(job, 'stdout', 'one\ntwo')
    reporter.jobFinished(job, {
      status: 'failure',
      error: 'exit 1',
      duration_ms: 1500,
      outputs: {}
    } as never)
    expect(lines).toEqual([
      '\x1b[95m[build]\x1b[39m one',
      '\x1b[95m[build]\x1b[39m two',
      '\x1b[95m[build]\x1b[39m job \x1b[31mfailure\x1b[39m: exit 1 (1.50 s)'
    ])
  })
})
