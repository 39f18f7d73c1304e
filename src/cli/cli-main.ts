import { Command, CommanderError } from 'commander'
import manifest from '../../package.json' with { type: 'json' }
import { describeError } from '../app/errors.js'
import { EXIT } from '../app/run-session.js'
import { addInspectCommands } from './inspect-commands.js'
import { addRunCommand } from './run-command.js'
import { addToolCommands } from './tool-commands.js'

/** What `--help` ends with: what people type most, what the exit status means, where to read on. */
const HELP_AFTER = `
Examples:
  ctr-pipeline run pipeline.yml                       run it on the local Docker engine
  ctr-pipeline run pipeline.yml --param dataset=sales --max-parallel 4
  ctr-pipeline run pipeline.yml --report report.html  and a page to open in a browser
  ctr-pipeline validate pipeline.yml                  FILE:LINE:COL: message per problem
  ctr-pipeline plan pipeline.yml                      the jobs, instances and order, nothing run
  ctr-pipeline cleanup                                remove what interrupted runs left

Exit status: ${EXIT.success} success, ${EXIT.failure} a job failed, ${EXIT.invalid} invalid input (file or flags), ${EXIT.noEngine} no engine or engine lost, ${EXIT.interrupted} interrupted.
Documentation: https://github.com/OWNER/ctr-pipeline#the-command-line`

function program(setExit: (status: number) => void): Command {
  const cli = new Command('ctr-pipeline')
    .description('Run container pipelines on a Docker engine')
    .version(manifest.version, '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', HELP_AFTER)

  addRunCommand(cli, setExit)
  addInspectCommands(cli, setExit)
  addToolCommands(cli, setExit)
  return cli
}

/** Runs the command line; resolves to the process exit status from the contract. */
export async function main(argv: string[]): Promise<number> {
  let status: number = EXIT.success
  try {
    await program((s) => (status = s)).parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the usage problem (or the help) itself.
      return error.exitCode === 0 ? EXIT.success : EXIT.invalid
    }
    const { status: errorStatus, message } = describeError(error)
    process.stderr.write(`${message}\n`)
    return errorStatus
  }
  return status
}
