import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { main } from '../../src/cli/cli-main.js'

/** Runs the command line in this process; what it wrote to stdout, and its exit status. */
async function cli(...args: string[]): Promise<{ status: number; stdout: string }> {
  let stdout = ''
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true)
  const status = await main(['node', 'ctr-pipeline', ...args])
  jest.restoreAllMocks()
  return { status, stdout }
}

afterEach(() => {
  jest.restoreAllMocks()
})

describe('completion bash, run by bash', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctr-completion-'))
  writeFileSync(path.join(dir, 'pipeline.yml'), '')
  mkdirSync(path.join(dir, 'data'))
  const script = path.join(dir, 'ctr-pipeline.bash')

  /** What bash offers for the words typed so far (the last one is being completed). */
  function offered(typed: string[]): string[] {
    const words = typed.map((w) => `'${w}'`).join(' ')
    const out = execFileSync(
      'bash',
      [
        '-c',
        `source ${script}; COMP_WORDS=(ctr-pipeline ${words}); COMP_CWORD=${typed.length}; _ctr_pipeline; printf '%s\\n' "\${COMPREPLY[@]}"`
      ],
      { cwd: dir, encoding: 'utf8' }
    )
    return out.split('\n').filter(Boolean).sort()
  }

  it.each<[string, string[], string[]]>([
    ['commands by their start', ['r'], ['results', 'run']],
    ['a flag of the command typed', ['run', '--ke'], ['--keep']],
    ['files where a file goes', ['run', 'pip'], ['pipeline.yml']],
    ['a flag after a file', ['run', 'pipeline.yml', '--env'], ['--env-file']],
    ["a flag's choices", ['export', '--to', ''], ['airflow', 'argo', 'batch', 'github', 'k8s']],
    ['a subcommand of a subcommand', ['results', 'm'], ['merge']],
    [
      "the sub-subcommand's flags",
      ['results', 'merge', '--'],
      ['--default-image', '--param', '--result', '--workflow']
    ],
    ["an argument's choices", ['completion', 'z'], ['zsh']],
    ['nothing that does not exist', ['run', '--nope'], []]
  ])('%s', async (_name, typed, expected) => {
    writeFileSync(script, (await cli('completion', 'bash')).stdout)
    expect(offered(typed)).toEqual(expected)
  })
})

describe('completion zsh and fish', () => {
  it('zsh loads bashcompinit and the same function', async () => {
    const [bash, zsh] = [
      (await cli('completion', 'bash')).stdout,
      (await cli('completion', 'zsh')).stdout
    ]
    expect(zsh.split('\n').slice(0, 2)).toEqual([
      '# ctr-pipeline completion for zsh: source <(ctr-pipeline completion zsh)',
      'autoload -U +X bashcompinit && bashcompinit'
    ])
    expect(zsh.split('\n').slice(2)).toEqual(bash.split('\n').slice(1))
  })

  it('fish has a line per subcommand and per flag, under its command', async () => {
    const lines = (await cli('completion', 'fish')).stdout.split('\n')
    expect(lines).toEqual(
      expect.arrayContaining([
        "complete -c ctr-pipeline -f -n '__fish_use_subcommand' -a run -d 'run a pipeline file on the local Docker engine'",
        "complete -c ctr-pipeline -f -n '__fish_seen_subcommand_from results' -a merge -d 'merge the result documents of a fan-out\\'s instances (files, or folders of *.json) into one, in the plan\\'s order'",
        "complete -c ctr-pipeline -n '__fish_seen_subcommand_from run' -l keep -d 'keep containers and volumes after the run, for debugging'",
        "complete -c ctr-pipeline -n '__fish_seen_subcommand_from export' -l to -x -a 'argo k8s airflow batch github' -d 'the engine'",
        "complete -c ctr-pipeline -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'"
      ])
    )
  })

  it('a shell it does not know is a usage error, exit 2', async () => {
    expect((await cli('completion', 'powershell')).status).toBe(2)
  })
})
