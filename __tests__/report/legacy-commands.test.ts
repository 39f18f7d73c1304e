import { neutraliseLegacyCommands } from '../../src/report/console-reporter.js'

describe('neutraliseLegacyCommands', () => {
  it.each([
    ['plain text', 'plain text'],
    ['##[error]boom', '##\u200b[error]boom'],
    ['x ##[add-mask]v ##[set-env name=A]b', 'x ##\u200b[add-mask]v ##\u200b[set-env name=A]b'],
    ['## [not one]', '## [not one]'],
    ['#[one hash]', '#[one hash]'],
    ['::error::modern form', '::error::modern form']
  ])('%j', (line, expected) => {
    expect(neutraliseLegacyCommands(line)).toBe(expected)
  })
})
