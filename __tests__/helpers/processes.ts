import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '../..')

/** The shipped bundles: these tests check what users run, not the sources. */
export const CLI = path.join(root, 'dist/cli/index.js')
export const ACTION = path.join(root, 'dist/action/index.js')
/** What the runner starts for a sub-action (`actions/<name>/action.yml`'s main and post). */
export const subActionEntry = (name: string) => path.join(root, 'dist/sub-actions', `${name}.js`)

export interface Finished {
  code: number | null
  stdout: string
  stderr: string
}

/** A spawned node process whose output is collected and whose exit can be awaited. */
export class Spawned {
  stdout = ''
  stderr = ''
  readonly exited: Promise<Finished>
  readonly child: ChildProcess

  constructor(script: string, args: string[], env: Record<string, string | undefined> = {}) {
    this.child = spawn(process.execPath, [script, ...args], {
      cwd: root,
      // Lines are compared as plain text: a FORCE_COLOR of the developer's must not paint them.
      env: { ...process.env, FORCE_COLOR: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()))
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()))
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr }))
    )
  }

  /** Resolves once stdout holds a line matching `pattern`; rejects if the process ends first. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(this.stdout)
      if (match) return match
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no ${pattern} in output:\n${this.stdout}\n${this.stderr}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

/** Runs a bundle to completion. */
export function runNode(
  script: string,
  args: string[],
  env: Record<string, string | undefined> = {}
) {
  return new Spawned(script, args, env).exited
}
