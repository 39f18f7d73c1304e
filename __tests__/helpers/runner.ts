import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseOutputFile } from '../../src/scheduler/output-file.js'
import { tempDir } from './engine.js'

const root = path.resolve(import.meta.dirname, '../..')

/** The files and variables the GitHub runner gives a node action step. */
export function runnerEnv(inputs: Record<string, string>, state: Record<string, string> = {}) {
  const dir = tempDir('ctr-action-')
  const files = {
    output: path.join(dir, 'output'),
    state: path.join(dir, 'state'),
    summary: path.join(dir, 'summary.md')
  }
  for (const file of Object.values(files)) writeFileSync(file, '')
  const env: Record<string, string> = {
    GITHUB_WORKSPACE: root,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: dir
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  for (const [name, value] of Object.entries(state)) env[`STATE_${name}`] = value
  return {
    env,
    dir,
    read: (file: 'output' | 'state') => parseOutputFile(readFileSync(files[file], 'utf8')),
    summary: () => readFileSync(files.summary, 'utf8')
  }
}

/** A workflow command the runner would act on. */
export interface WorkflowCommand {
  command: string
  properties: string
  data: string
}

/**
 * The workflow commands the runner would act on in a step's output, read as its
 * documentation describes it: a line that starts (after blanks) with `::name props::data`,
 * the older `##[name props]data` anywhere in a line, and nothing at all after
 * `::stop-commands::TOKEN` until a line `::TOKEN::`.
 */
export function workflowCommands(stdout: string): WorkflowCommand[] {
  const commands: WorkflowCommand[] = []
  let stopToken: string | undefined
  for (const line of stdout.split('\n')) {
    if (stopToken !== undefined) {
      if (line.trim() === `::${stopToken}::`) stopToken = undefined
      continue
    }
    const v2 = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line.trimStart())
    const v1 = /##\[([A-Za-z-]+)(?: ([^\]]*))?\](.*)$/.exec(line)
    const match = v2 ?? v1
    if (!match) continue
    const command = { command: match[1], properties: match[2] ?? '', data: match[3] }
    if (command.command === 'stop-commands') stopToken = command.data
    else commands.push(command)
  }
  return commands
}
