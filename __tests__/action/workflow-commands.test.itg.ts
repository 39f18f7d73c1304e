import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { BUSYBOX, leftovers, NOTHING_LEFT, tempDir } from '../helpers/engine.js'
import { ACTION, runNode } from '../helpers/processes.js'
import { runnerEnv, workflowCommands } from '../helpers/runner.js'

afterAll(async () => {
  expect(await leftovers()).toEqual(NOTHING_LEFT)
})

/** Output that tries every way a line can reach the runner as a command. */
const HOSTILE = [
  'echo "::add-mask::x"',
  'echo "::error::fake"',
  'echo "   ::warning::indented"',
  'echo "see ##[error]old-style fake"',
  'echo "::stop-commands::guess"',
  'echo "::guess::"',
  'echo "::error::after a guessed token"'
].join('; ')

function pipeline(optIn: boolean): string {
  return [
    ...(optIn ? ['allow_workflow_commands: true'] : []),
    'jobs:',
    '  hostile:',
    `    runs-on: {with: {image: ${BUSYBOX}}}`,
    `    stages: [{name: print, type: sh, run: '${HOSTILE}'}]`,
    '  broken:',
    `    runs-on: {with: {image: ${BUSYBOX}}}`,
    '    stages: [{name: fails, type: sh, run: "exit 3"}]',
    ''
  ].join('\n')
}

/** A pull_request event from a fork, as GitHub writes it to $GITHUB_EVENT_PATH. */
function forkEvent(): string {
  const file = path.join(tempDir(), 'event.json')
  writeFileSync(
    file,
    JSON.stringify({
      pull_request: {
        number: 7,
        head: { repo: { full_name: 'someone/fork', fork: true } },
        base: { repo: { full_name: 'owner/repo', fork: false } }
      }
    })
  )
  return file
}

async function run(inputs: Record<string, string>, env: Record<string, string> = {}) {
  const runner = runnerEnv({ 'max-parallel': '1', ...inputs })
  const { code, stdout } = await runNode(ACTION, [], { ...runner.env, ...env })
  return { code, stdout, commands: workflowCommands(stdout) }
}

describe('workflow commands in container output', () => {
  it('cannot be issued by an untrusted pipeline (a fork’s pull request): no mask, no annotation', async () => {
    const { code, stdout, commands } = await run(
      { pipeline: pipeline(false) },
      { GITHUB_EVENT_PATH: forkEvent() }
    )
    expect(code).toBe(1)
    // The lines are in the log, as text.
    expect(stdout).toContain('[hostile] ::add-mask::x')
    expect(stdout).toContain('[hostile] ::error::fake')
    expect(commands.filter((c) => c.command === 'add-mask')).toEqual([])
    const messages = commands.map((c) => c.data)
    for (const fake of ['fake', 'indented', 'old-style fake', 'after a guessed token'])
      expect(messages).not.toContain(fake)
    // The action's own commands still reach the runner: groups, its annotations, the failure.
    expect(commands).toContainEqual(
      expect.objectContaining({ command: 'error', data: 'job broken, stage fails: exit code 3' })
    )
    expect(commands).toContainEqual({ command: 'group', properties: '', data: 'job hostile' })
    expect(commands.at(-1)).toEqual(
      expect.objectContaining({ command: 'error', data: 'pipeline failure: broken failed' })
    )
  })

  it.each([
    ['a trusted pipeline', { pipeline: pipeline(false), untrusted: 'false' }],
    [
      'an untrusted pipeline the workflow lets',
      { pipeline: pipeline(false), untrusted: 'true', 'allow-workflow-commands': 'true' }
    ]
  ])('reach the runner from %s, as from a run: step', async (_name, inputs) => {
    const { commands } = await run(inputs)
    expect(commands).toContainEqual({ command: 'add-mask', properties: '', data: 'x' })
    expect(commands).toContainEqual({ command: 'error', properties: '', data: 'fake' })
    expect(commands).toContainEqual({ command: 'warning', properties: '', data: 'indented' })
  })

  it('cannot be let through by an untrusted file itself (issue 40, item 8)', async () => {
    const { commands } = await run({ pipeline: pipeline(true), untrusted: 'true' })
    expect(commands.filter((c) => c.command === 'add-mask')).toEqual([])
    expect(commands[0]).toEqual({
      command: 'warning',
      properties: '',
      data: "pipeline input:1:26: allow_workflow_commands: true; ignored for an untrusted pipeline: only the workflow can allow workflow commands (the action's allow-workflow-commands input)"
    })
  })
})
