import { Command, Option } from 'commander'
import { availableParallelism } from 'node:os'
import { readFile } from 'node:fs/promises'
import { writeFileReplacing } from '../scheduler/host-files.js'
import { writeResult } from '../app/fan-out.js'
import { exitStatusOf } from '../app/run-session.js'
import { DEFAULT_ARTIFACTS_DIR } from '../scheduler/pipeline-runner.js'
import { stdoutLines } from '../report/block-writer.js'
import { useColour } from '../report/colours.js'
import { ConsoleReporter } from '../report/console-reporter.js'
import { htmlReport } from '../report/html-report.js'
import { InstanceLogs } from '../report/instance-logs.js'
import { SecretMasker } from '../report/secret-masker.js'
import { parseChangedFiles } from '../plan/changed-files.js'
import { loadPipelineFile } from '../pipeline/load-pipeline.js'
import { InputError } from '../pipeline/input-error.js'
import {
  BACKEND_NAMES,
  chooseBackend,
  parseRegistry,
  parseTimeout,
  REGISTRY_FORM,
  TIMEOUT_FORM
} from '../app/backends.js'
import { pipelineFileArg } from './default-file.js'
import { readEnvFiles } from './env-files.js'
import { runApp, type RunSettings } from '../app/run-app.js'
import {
  collect,
  checkWritable,
  formFlag,
  maxParallelFlag,
  swarmHostOption,
  parseParamFlags,
  workflowOption,
  defaultImageOption,
  loadOptions,
  FILE_ARGUMENT
} from './cli-flags.js'

/** `run`: the flags translated into RunSettings, the run, its result document and report. */
export function addRunCommand(cli: Command, setExit: (status: number) => void): void {
  cli
    .command('run')
    .description('run a pipeline file on the local Docker engine')
    .argument('[file]', FILE_ARGUMENT)
    .addOption(
      new Option('--param <key=value>', 'set a param (repeatable)').default([]).argParser(collect)
    )
    .addOption(workflowOption())
    .addOption(defaultImageOption())
    .addOption(
      new Option('--job <id>', 'run only this job (repeatable)').default([]).argParser(collect)
    )
    .option(
      '--max-parallel <n>',
      `run at most this many job instances at once (default: the CPU count, ${availableParallelism()}, or a job's larger max_parallel)`,
      maxParallelFlag
    )
    .option(
      '--artifacts-dir <dir>',
      "copy each job instance's declared artifacts into DIR/<instance>/",
      DEFAULT_ARTIFACTS_DIR
    )
    .option(
      '--result <file>',
      "write the result document (JSON) to this file ('-': to stdout, and the log to stderr)"
    )
    .option(
      '--report <file>',
      'write a report of the run to this file: one self-contained HTML page (DAG, timeline, every job instance and stage, every log, searchable)'
    )
    .addOption(
      new Option(
        '--env-file <file>',
        'read variables for ${VAR} from a dotenv file (NAME=value lines; repeatable, a later file wins over an earlier one and over the environment)'
      )
        .default([])
        .argParser(collect)
    )
    .addOption(
      new Option(
        '--secret-file <file>',
        'as --env-file, and every value in it is masked in logs and results (repeatable; wins over --env-file)'
      )
        .default([])
        .argParser(collect)
    )
    .option('--keep', 'keep containers and volumes after the run, for debugging')
    .option(
      '--untrusted',
      'for a pipeline someone without write access wrote: refuse host access, builds, pushes, registry logins and ${VAR}s not allowed by name, and harden containers (docs/security.md)'
    )
    .addOption(
      new Option(
        '--allow-var <name>',
        'with --untrusted: a variable ${NAME} may read from the environment (repeatable; none by default)'
      )
        .default([])
        .argParser(collect)
    )
    .option('--backend <name>', `where jobs run: ${BACKEND_NAMES.join(', ')}`, BACKEND_NAMES[0])
    .option(
      '--schedule-timeout <duration>',
      'swarm: how long a job may wait for a node that can run it before it fails (default 3m)',
      (value: string) => formFlag(parseTimeout, value, TIMEOUT_FORM)
    )
    .option(
      '--registry <host>',
      'swarm: the registry (HOST[:PORT][/PATH]) every node pulls from: built images are pushed there and run by digest',
      (value: string) => formFlag(parseRegistry, value, REGISTRY_FORM)
    )
    .addOption(swarmHostOption())
    .option(
      '--changed-files-from <file>',
      "the files a change touches, one per line ('-': stdin), e.g. from git diff --name-only: jobs with changed_files run only when one matches"
    )
    .option(
      '--instance <id>',
      'run only this job instance (its slug: test-1), as one runner of a fan-out; needs --inputs-from'
    )
    .option(
      '--inputs-from <dir>',
      "with --instance: the fan-out folder, DIR/results/*.json (upstream instances' result documents) and DIR/workspace (the workspace, in and out); the instance's result goes to DIR/results/ID.json"
    )
    .action(
      async (
        given: string | undefined,
        opts: {
          param: string[]
          job: string[]
          maxParallel?: number
          artifactsDir: string
          result?: string
          report?: string
          envFile: string[]
          secretFile: string[]
          keep?: boolean
          untrusted?: boolean
          allowVar: string[]
          changedFilesFrom?: string
          backend: string
          scheduleTimeout?: number
          registry?: string
          swarmHost?: string
          workflow?: string
          defaultImage?: string
          instance?: string
          inputsFrom?: string
        }
      ) => {
        checkInstanceFlags(opts)
        checkAllowVars(opts.allowVar, opts.untrusted)
        const file = pipelineFileArg(given, process.cwd())
        const backend = chooseBackend(opts.backend, '--backend', {
          scheduleTimeoutMs: opts.scheduleTimeout,
          registry: opts.registry,
          host: opts.swarmHost
        })
        const fromFiles = await readEnvFiles(opts.envFile, '--env-file')
        const secrets = await readEnvFiles(opts.secretFile, '--secret-file')
        const env = { ...process.env, ...fromFiles, ...secrets }
        const secretNames = Object.keys(secrets)
        const pipeline = await loadPipelineFile(file, loadOptions(opts))
        const masker = SecretMasker.forPipeline(pipeline, env, secretNames)
        // `--result -`: stdout carries the document alone, and the run's log goes to stderr.
        const resultToStdout = opts.result === '-'
        const logStream = resultToStdout ? process.stderr : process.stdout
        if (opts.result && !resultToStdout) await checkWritable(opts.result, '--result')
        if (opts.report) await checkWritable(opts.report, '--report', 'the report')
        const changedFiles =
          opts.changedFilesFrom === undefined
            ? undefined
            : parseChangedFiles(await readChangedFiles(opts.changedFilesFrom))
        // The report shows every instance's log: they are kept in files until it is written.
        const logs = opts.report ? new InstanceLogs() : undefined
        const settings: RunSettings = {
          pipeline,
          params: parseParamFlags(opts.param),
          only: opts.job,
          maxParallel: opts.maxParallel,
          artifactsDir: opts.artifactsDir,
          artifactsFlag: '--artifacts-dir',
          keep: opts.keep ?? false,
          untrusted: opts.untrusted ?? false,
          workspace: process.cwd(),
          allowedVariables: opts.allowVar,
          changedFiles,
          backend,
          instance: opts.instance ? { slug: opts.instance, dir: opts.inputsFrom! } : undefined,
          env,
          engineEnv: process.env,
          secretNames,
          outputs: [
            ...(opts.result && !resultToStdout ? [{ path: opts.result, flag: '--result' }] : []),
            ...(opts.report ? [{ path: opts.report, flag: '--report' }] : [])
          ]
        }
        const reporter = new ConsoleReporter({
          masker,
          stream: resultToStdout ? 'stderr' : 'stdout',
          ...(logStream.isTTY ? { terminal: logStream } : {}),
          colour: useColour(logStream, process.env),
          untrusted: opts.untrusted,
          debug: !['', '0', 'false'].includes(process.env.CTR_DEBUG ?? ''),
          logs
        })
        try {
          const { plan, result } = await runApp(settings, { reporter, masker })
          if (resultToStdout) {
            stdoutLines('stderr').flush()
            process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
          } else if (opts.result) await writeResult(opts.result, result)
          if (opts.report && logs) await writeReport(opts.report, plan, result, logs)
          if (result.error) process.stderr.write(`error: ${result.error}\n`)
          setExit(exitStatusOf(result))
        } finally {
          await logs?.remove()
        }
      }
    )
}

/** `--allow-var`: names of variables, and only for an untrusted run. */
function checkAllowVars(names: string[], untrusted: boolean | undefined): void {
  const bad = names.find((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
  if (bad !== undefined)
    throw new InputError(`--allow-var '${bad}': expected a variable name (letters, digits, _)`)
  if (names.length > 0 && !untrusted)
    throw new InputError('--allow-var: only with --untrusted (a trusted run reads every ${VAR})')
}

/** The text of `--changed-files-from`: a file, or stdin for '-'. */
async function readChangedFiles(source: string): Promise<string> {
  if (source !== '-') {
    try {
      return await readFile(source, 'utf8')
    } catch (error) {
      throw new InputError(`--changed-files-from ${source}: ${(error as Error).message}`)
    }
  }
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  return text
}

/** Writes the HTML report; one that cannot be written is a usage error naming it. */
async function writeReport(file: string, ...args: Parameters<typeof htmlReport>): Promise<void> {
  try {
    await writeFileReplacing(file, await htmlReport(...args))
  } catch (error) {
    throw new InputError(`--report ${file}: ${(error as Error).message}`)
  }
}

/** `--instance` and `--inputs-from` go together, and with the docker backend only. */
function checkInstanceFlags(opts: {
  instance?: string
  inputsFrom?: string
  job: string[]
  backend: string
}): void {
  if ((opts.instance === undefined) !== (opts.inputsFrom === undefined))
    throw new InputError('--instance and --inputs-from go together: give both or neither')
  if (opts.instance === undefined) return
  if (opts.job.length > 0) throw new InputError('--instance runs one job instance: drop --job')
  // The workspace is a folder of this host, bound into the job's container.
  if (opts.backend !== BACKEND_NAMES[0])
    throw new InputError(`--instance: runs on the ${BACKEND_NAMES[0]} backend only`)
}
