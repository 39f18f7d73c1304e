import type { Command } from 'commander'

/** The shells `completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const
export type CompletionShell = (typeof COMPLETION_SHELLS)[number]

/** What a completion script needs of one command: its words, flags and subcommands. */
export interface CompletionCommand {
  name: string
  description: string
  /** Long flags (`--param`); `takesValue` flags are followed by a value, `choices` by one of them. */
  flags: Array<{ flag: string; description: string; takesValue: boolean; choices?: string[] }>
  commands: CompletionCommand[]
  /** The choices of its arguments (`completion bash|zsh|fish`). */
  values: string[]
}

/**
 * Reads the command tree of a commander program, so that the scripts always offer the
 * commands and flags the program has: nothing to keep in step by hand.
 */
export function completionTree(command: Command): CompletionCommand {
  return {
    name: command.name(),
    description: command.description(),
    flags: command.options
      .filter((o) => o.long !== undefined)
      .map((o) => ({
        flag: o.long!,
        description: o.description,
        takesValue: o.required || o.optional,
        ...(o.argChoices ? { choices: o.argChoices } : {})
      })),
    commands: command.commands.filter((c) => c.name() !== 'help').map((c) => completionTree(c)),
    values: command.registeredArguments.flatMap((a) => a.argChoices ?? [])
  }
}

/** Every command of the tree with its path of names: `[['run'], cmd]`, `[['results', 'merge'], cmd]`. */
function commandPaths(
  command: CompletionCommand,
  path: string[] = []
): Array<[string[], CompletionCommand]> {
  return [[path, command], ...command.commands.flatMap((c) => commandPaths(c, [...path, c.name]))]
}

/** A word list for the shell, single-quoted. */
const words = (list: readonly string[]) => `'${list.join(' ')}'`

/**
 * A bash function: the words before the cursor pick the (sub)command; after a flag that
 * takes one of some choices those are offered, after a `-` the command's flags, elsewhere
 * its subcommands and file names (pipeline files, result documents).
 */
function bashScript(spec: CompletionCommand): string {
  const fn = `_${spec.name.replaceAll('-', '_')}`
  const paths = commandPaths(spec)
  const nested = paths.filter(([path]) => path.length > 0)
  const choiceFlags = paths.flatMap(([, c]) => c.flags.filter((f) => f.choices))
  const lines = [
    `# ${spec.name} completion for bash: source <(${spec.name} completion bash)`,
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} at= i',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case "$at ${COMP_WORDS[i]}" in',
    `      ${nested.map(([path]) => `' ${path.join(' ')}'`).join('|')}) at="$at ${'${COMP_WORDS[i]}'}" ;;`,
    '    esac',
    '  done',
    '  case "$prev" in',
    ...[...new Map(choiceFlags.map((f) => [f.flag, f])).values()].map(
      (f) => `    ${f.flag}) COMPREPLY=($(compgen -W ${words(f.choices!)} -- "$cur")); return ;;`
    ),
    '  esac',
    '  local flags= commands=',
    '  case "$at" in',
    ...paths.map(
      ([path, c]) =>
        `    '${path.length ? ` ${path.join(' ')}` : ''}') flags=${words(c.flags.map((f) => f.flag))}; commands=${words([...c.commands.map((s) => s.name), ...c.values])} ;;`
    ),
    '  esac',
    '  if [[ $cur == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$flags" -- "$cur"))',
    '  else',
    '    COMPREPLY=($(compgen -W "$commands" -- "$cur") $(compgen -f -- "$cur"))',
    '  fi',
    '}',
    `complete -o filenames -F ${fn} ${spec.name}`
  ]
  return `${lines.join('\n')}\n`
}

/** zsh reads the bash function through its own bashcompinit, as many CLIs ship theirs. */
function zshScript(spec: CompletionCommand): string {
  return [
    `# ${spec.name} completion for zsh: source <(${spec.name} completion zsh)`,
    'autoload -U +X bashcompinit && bashcompinit',
    bashScript(spec).split('\n').slice(1).join('\n')
  ].join('\n')
}

/** fish: one `complete` line per subcommand and per flag, each under its command. */
function fishScript(spec: CompletionCommand): string {
  const quote = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
  const lines = [`# ${spec.name} completion for fish: ${spec.name} completion fish | source`]
  for (const [path, c] of commandPaths(spec)) {
    const condition =
      path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${path.at(-1)!}`
    for (const sub of c.commands)
      lines.push(
        `complete -c ${spec.name} -f -n '${condition}' -a ${sub.name} -d ${quote(sub.description)}`
      )
    if (c.values.length > 0)
      lines.push(`complete -c ${spec.name} -f -n '${condition}' -a ${quote(c.values.join(' '))}`)
    for (const f of c.flags) {
      const value = f.choices ? ` -x -a ${quote(f.choices.join(' '))}` : f.takesValue ? ' -r' : ''
      lines.push(
        `complete -c ${spec.name} -n '${condition}' -l ${f.flag.slice(2)}${value} -d ${quote(f.description)}`
      )
    }
  }
  return `${lines.join('\n')}\n`
}

/** The completion script of `spec` for `shell`. */
export function completionScript(shell: CompletionShell, spec: CompletionCommand): string {
  if (shell === 'bash') return bashScript(spec)
  if (shell === 'zsh') return zshScript(spec)
  return fishScript(spec)
}
