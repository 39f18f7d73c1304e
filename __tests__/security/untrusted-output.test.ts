import { preparePlan } from '../../src/app/prepare-plan.js'
import { guardRunnerLog } from '../../src/cli/runner-log.js'
import { ConsoleReporter } from '../../src/report/console-reporter.js'
import { SecretMasker } from '../../src/report/secret-masker.js'
import { markdownText } from '../../src/report/text-format.js'
import { neutraliseRunnerCommands, sanitiseTerminal } from '../../src/report/terminal-text.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'

const ZWSP = '\u200b'

describe('neutraliseRunnerCommands: no line reaches the runner as a workflow command', () => {
  it.each<[string, string]>([
    ['plain text', 'plain text'],
    ['::error::x', `:${ZWSP}:error::x`],
    ['  \t::add-mask::x', `  \t:${ZWSP}:add-mask::x`],
    ['[a] ok\n::set-output name=a::b', `[a] ok\n:${ZWSP}:set-output name=a::b`],
    ['[a] ok\r::stop-commands::t', `[a] ok\r:${ZWSP}:stop-commands::t`],
    ['[a] ok\r\n  ::warning::w', `[a] ok\r\n  :${ZWSP}:warning::w`],
    ['a::b is no command mid-line', 'a::b is no command mid-line'],
    ['x ##[error]boom', `x ##${ZWSP}[error]boom`],
    ['## [not one] #[one hash]', '## [not one] #[one hash]']
  ])('%j', (text, expected) => {
    expect(neutraliseRunnerCommands(text)).toBe(expected)
  })
})

describe('sanitiseTerminal: escape sequences from containers', () => {
  const ESC = '\x1b'
  it.each<[string, string, string, string]>([
    // [what, text, trusted (colour kept), untrusted]
    ['colour', `${ESC}[31mred${ESC}[0m`, `${ESC}[31mred${ESC}[0m`, 'red'],
    ['erase line and cursor up', `a${ESC}[2K${ESC}[1Ab`, 'ab', 'ab'],
    ['OSC 52, the clipboard', `x${ESC}]52;c;ZWNobyBwd25lZA==\x07y`, 'xy', 'xy'],
    [
      'OSC 8, a link',
      `${ESC}]8;;https://evil.example${ESC}\\here${ESC}]8;;${ESC}\\`,
      'here',
      'here'
    ],
    ['a title that never ends', `ok${ESC}]0;title`, 'ok', 'ok'],
    ['C1 CSI, bell, backspace', 'a\x9b2Jb\x07c\x08d', 'abcd', 'abcd'],
    ['tab, newline, carriage return stay', 'a\tb\r\nc', 'a\tb\r\nc', 'a\tb\r\nc'],
    ['a lone ESC at the end', `end${ESC}`, 'end', 'end']
  ])('%s', (_what, text, trusted, untrusted) => {
    expect([sanitiseTerminal(text, true), sanitiseTerminal(text, false)]).toEqual([
      trusted,
      untrusted
    ])
  })
})

/**
 * The console's lines for a run of a hostile file, as a runner's log gets them: written to
 * a stream that guardRunnerLog holds, as the CLI's entry does in a `run:` step.
 */
function consoleLines(untrusted: boolean, secret = 'ab##[cd-secret') {
  const pipeline = parsePipeline(
    `jobs:
  a:
    strategy: {matrix: {v: ["x\\r::add-mask::m", "y\\n::error::e"]}}
    runs-on: {with: {image: img}}
    stages: [{name: "s\\r::set-env name=A::b", type: sh, run: 'true'}]
`,
    'p.yml',
    '/repo'
  )
  const { plan } = preparePlan(pipeline, {})
  const written: string[] = []
  const stream = { write: (chunk: string) => written.push(chunk) > 0 }
  guardRunnerLog(stream as unknown as NodeJS.WriteStream)
  const reporter = new ConsoleReporter({
    write: (line) => stream.write(`${line}\n`),
    untrusted,
    masker: new SecretMasker([secret])
  })
  const [first, second] = plan.jobs[0].instances
  const stage = pipeline.jobs[0].stages![0]
  reporter.jobStarted(first, 'img')
  reporter.stageStarted(first, stage)
  reporter.output(first, 'stdout', `out ${secret}\r::error::from output\n\x1b[31mred\x1b[0m`)
  reporter.warning('a message\n::notice::from a message', second)
  return written.map((chunk) => chunk.slice(0, -1))
}

describe('the CLI in a runner log (items 9, 15, 20)', () => {
  it('starts no line with :: from a matrix value, a stage name, output or a message; masks before it neutralises', () => {
    expect(consoleLines(false)).toEqual([
      `[a (x\r:${ZWSP}:add-mask::m)] job started in img`,
      `[a (x\r:${ZWSP}:add-mask::m)] stage s\r:${ZWSP}:set-env name=A::b (sh)`,
      `[a (x\r:${ZWSP}:add-mask::m)] out ***\r:${ZWSP}:error::from output`,
      `[a (x\r:${ZWSP}:add-mask::m)] \x1b[31mred\x1b[0m`,
      `[a (y\n:${ZWSP}:error::e)] warning: a message\n:${ZWSP}:notice::from a message`
    ])
  })

  it('strips colour from an untrusted run', () => {
    expect(consoleLines(true)[3]).toBe(`[a (x\r:${ZWSP}:add-mask::m)] red`)
  })
})

describe('markdownText (item 12): text shown in a summary or PR comment as written', () => {
  it.each<[string, string]>([
    ['plain words, with-dashes.and_dots', 'plain words, with-dashes.and&#95;dots'],
    ['![x](https://tracker.example/p.png)', '&#33;&#91;x&#93;(https://tracker.example/p.png)'],
    ['a | b', 'a &#124; b'],
    ['```\n</details><img src=x>', '&#96;&#96;&#96;<br>&#60;/details&#62;&#60;img src=x&#62;'],
    [
      '**bold** ~~gone~~ $x^2$',
      '&#42;&#42;bold&#42;&#42; &#126;&#126;gone&#126;&#126; &#36;x^2&#36;'
    ],
    ['ping @org/team', `ping @${ZWSP}org/team`],
    ['a\r\nb\rc', 'a<br>b<br>c']
  ])('%j', (text, expected) => {
    expect(markdownText(text)).toBe(expected)
  })
})
