import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import manifest from '../../package.json' with { type: 'json' }
import { availableParallelism, homedir } from 'node:os'
import path from 'node:path'
import { checkProcesses } from '../app/check-processes.js'
import { discoverProcesses, processesText, type ProcessEngine } from '../app/discover-processes.js'
import { access, constants, lstat, readFile, stat } from 'node:fs/promises'
import { writeFileReplacing } from '../scheduler/host-files.js'
import { describeError } from '../app/errors.js'
import { checkPlan, preparePlan } from '../app/prepare-plan.js'
import {
  mergeResultFiles,
  readFanOutFolder,
  writeInstanceResult,
  writeResult
} from '../app/fan-out.js'
import { mermaidDiagram } from '../plan/mermaid.js'
import { planDocument } from '../plan/plan-document.js'
import { planText } from '../report/plan-text.js'
import { EXIT, exitStatusOf, parseMaxParallel, runSession } from '../app/run-session.js'
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
  createBackend,
  ENGINE_HOST_FORM,
  localEngine,
  parseEngineHost,
  parseRegistry,
  parseTimeout,
  REGISTRY_FORM,
  TIMEOUT_FORM
} from '../app/backends.js'
import { checkRunId } from '../scheduler/run-id.js'
import { PipelineFileError, type FileProblem } from '../pipeline/file-problems.js'
import { DEFAULT_FILES, pipelineFileArg } from './default-file.js'
import { readEnvFiles } from './env-files.js'
import { DEFAULT_INIT_IMAGE, writeInitFiles } from './init.js'
import {
  COMPLETION_SHELLS,
  completionScript,
  completionTree,
  type CompletionShell
} from './completion.js'
import { exportOptions, SET_KEYS } from '../app/export-options.js'
import { EXPORT_TARGETS, exportPipeline, type ExportTarget } from '../export/export-pipeline.js'
import { HOST_MAP_FORM } from '../export/shared/host-map.js'
import { DROPPABLE_KEYS } from '../export/shared/pod-parts.js'

const collect = (value: string, previous: string[]) => [...previous, value]

/**
 * Opens for writing a file the run writes at its end, before the run: a path that cannot
 * be written is a usage error now, not after the whole run. A file made only for the
 * check is removed again, so a run that stops early leaves no empty result behind.
 */
async function checkWritable(file: string, flag: string, what = 'the result'): Promise<void> {
  // Asked of the folder, not by opening the file: opening would follow a symlink there.
  try {
    const dir = path.dirname(path.resolve(file))
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' })
    await access(dir, constants.W_OK)
    const existing = await lstat(file).catch(() => undefined)
    if (existing?.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' })
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException
    const why: Record<string, string> = {
      ENOENT: 'its folder does not exist',
      EACCES: 'permission denied',
      EISDIR: 'it is a folder',
      EROFS: 'the file system is read-only',
      ENOTDIR: 'a part of its path is not a folder'
    }
    throw new InputError(
      `${flag} ${file}: cannot write ${what} there (${(code && why[code]) ?? (error as Error).message})`
    )
  }
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

/** Writes a command's output file; one that cannot be written is a usage error naming it. */
async function writeOutput(file: string, text: string): Promise<void> {
  try {
    await writeFileReplacing(file, text)
  } catch (error) {
    throw new InputError(`--output ${file}: ${(error as Error).message}`)
  }
}

/** Splits repeated `--param K=V` flags into a map; a flag without `=` is a usage error. */
export function parseParamFlags(flags: string[]): Record<string, string> {
  const params: Record<string, string> = {}
  for (const flag of flags) {
    const equals = flag.indexOf('=')
    if (equals <= 0) throw new InputError(`--param '${flag}': expected KEY=VALUE`)
    params[flag.slice(0, equals)] = flag.slice(equals + 1)
  }
  return params
}

/** `--max-parallel`: a whole number of at least 1. */
function maxParallelFlag(value: string): number {
  const n = parseMaxParallel(value)
  if (n === undefined) throw new InvalidArgumentError('expected a whole number of at least 1')
  return n
}

/** `--swarm-host`, of `run` and `cleanup`. */
function swarmHostOption(): Option {
  return new Option(
    '--swarm-host <url>',
    "swarm: the manager's Engine API (unix://, tcp://, ssh://; default: DOCKER_HOST)"
  ).argParser((value: string) => formFlag(parseEngineHost, value, ENGINE_HOST_FORM))
}

/** A flag whose value must have a form: `parse` gives it, or undefined when it has not. */
function formFlag<T>(parse: (text: string) => T | undefined, value: string, form: string): T {
  const parsed = parse(value)
  if (parsed === undefined) throw new InvalidArgumentError(`expected ${form}`)
  return parsed
}

/** `run` and `plan`'s file argument. */
const FILE_ARGUMENT = `pipeline file (YAML; default: the first of ${DEFAULT_FILES.join(', ')})`

/** What `validate --json` prints: every file, valid or not, with its problems and notes. */
interface ValidationReport {
  valid: boolean
  files: Array<{ file: string; valid: boolean; problems: FileProblem[]; notes: string[] }>
}

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

/** How to install what `completion` prints. */
const COMPLETION_HELP = `
Install:
  bash  echo 'source <(ctr-pipeline completion bash)' >> ~/.bashrc
  zsh   echo 'source <(ctr-pipeline completion zsh)' >> ~/.zshrc
  fish  ctr-pipeline completion fish > ~/.config/fish/completions/ctr-pipeline.fish`

function program(setExit: (status: number) => void): Command {
  const cli = new Command('ctr-pipeline')
    .description('Run container pipelines on a Docker engine')
    .version(manifest.version, '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', HELP_AFTER)

  cli
    .command('run')
    .description('run a pipeline file on the local Docker engine')
    .argument('[file]', FILE_ARGUMENT)
    .addOption(
      new Option('--param <key=value>', 'set a param (repeatable)').default([]).argParser(collect)
    )
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
          instance?: string
          inputsFrom?: string
        }
      ) => {
        checkInstanceFlags(opts)
        checkAllowVars(opts.allowVar, opts.untrusted)
        const file = pipelineFileArg(given, process.cwd())
        const backend = createBackend(opts.backend, '--backend', {
          env: process.env,
          scheduleTimeoutMs: opts.scheduleTimeout,
          registry: opts.registry,
          host: opts.swarmHost
        })
        const fromFiles = await readEnvFiles(opts.envFile, '--env-file')
        const secrets = await readEnvFiles(opts.secretFile, '--secret-file')
        const env = { ...process.env, ...fromFiles, ...secrets }
        const secretNames = Object.keys(secrets)
        const pipeline = await loadPipelineFile(file)
        const { params, plan } = preparePlan(pipeline, parseParamFlags(opts.param), opts.job)
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
        const instance =
          opts.instance && opts.inputsFrom
            ? await readFanOutFolder(opts.inputsFrom, opts.instance)
            : undefined
        // The report shows every instance's log: they are kept in files until it is written.
        const logs = opts.report ? new InstanceLogs() : undefined
        try {
          const result = await runSession({
            plan,
            params,
            reporter: new ConsoleReporter({
              masker,
              stream: resultToStdout ? 'stderr' : 'stdout',
              ...(logStream.isTTY ? { terminal: logStream } : {}),
              colour: useColour(logStream, process.env),
              untrusted: opts.untrusted,
              debug: !['', '0', 'false'].includes(process.env.CTR_DEBUG ?? ''),
              logs
            }),
            changedFiles,
            only: opts.job,
            maxParallel: opts.maxParallel,
            artifactsDir: opts.artifactsDir,
            keep: opts.keep,
            untrusted: opts.untrusted,
            allowedVariables: opts.allowVar,
            outputs: [
              ...(opts.result && !resultToStdout ? [{ path: opts.result, flag: '--result' }] : []),
              ...(opts.report ? [{ path: opts.report, flag: '--report' }] : [])
            ],
            backend,
            instance,
            env,
            secretNames
          })
          const doc = masker.maskDeep(result)
          if (resultToStdout) {
            stdoutLines('stderr').flush()
            process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`)
          } else if (opts.result) await writeResult(opts.result, doc)
          if (opts.report && logs) await writeReport(opts.report, plan, doc, logs)
          if (instance) await writeInstanceResult(opts.inputsFrom!, instance.slug, doc)
          if (result.error) process.stderr.write(`error: ${result.error}\n`)
          setExit(exitStatusOf(result))
        } finally {
          await logs?.remove()
        }
      }
    )

  cli
    .command('results')
    .description('work with result documents')
    .command('merge')
    .description(
      "merge the result documents of a fan-out's instances (files, or folders of *.json) into one, in the plan's order"
    )
    .argument('<file>', 'the pipeline file they ran')
    .argument('<paths...>', 'result documents, or folders holding them')
    .addOption(
      new Option('--param <key=value>', 'the params they ran with (repeatable)')
        .default([])
        .argParser(collect)
    )
    .option('--result <file>', 'write the merged document here rather than to stdout')
    .action(async (file: string, paths: string[], opts: { param: string[]; result?: string }) => {
      const pipeline = await loadPipelineFile(file)
      const { plan } = preparePlan(pipeline, parseParamFlags(opts.param))
      const merged = await mergeResultFiles(plan, paths, 'results merge')
      if (opts.result) await writeResult(opts.result, merged)
      else process.stdout.write(`${JSON.stringify(merged, null, 2)}\n`)
      for (const job of merged.jobs) process.stderr.write(`${job.id}: ${job.status}\n`)
      process.stderr.write(`${merged.status}\n`)
      setExit(exitStatusOf(merged))
    })

  cli
    .command('validate')
    .description('check pipeline files; prints every problem as FILE:LINE:COL: message')
    .argument('[files...]', `pipeline files (default: the first of ${DEFAULT_FILES.join(', ')})`)
    .option('--json', 'print one JSON document: each file, whether it is valid, its problems')
    .action(async (given: string[], opts: { json?: boolean }) => {
      const files = given.length > 0 ? given : [pipelineFileArg(undefined, process.cwd())]
      const problems: string[] = []
      const report: ValidationReport = { valid: true, files: [] }
      let engine: Promise<ProcessEngine> | undefined
      const connect = () => (engine ??= localEngine(process.env))
      for (const file of files) {
        const entry: ValidationReport['files'][number] = {
          file,
          valid: true,
          problems: [],
          notes: []
        }
        report.files.push(entry)
        try {
          const pipeline = await loadPipelineFile(file)
          checkPlan(pipeline)
          const processes = await checkProcesses(pipeline, connect, processCache())
          entry.notes = processes.notes
          for (const note of processes.notes)
            if (!opts.json) process.stdout.write(`${file}: note: ${note}\n`)
          if (processes.problems.length > 0) throw new PipelineFileError(processes.problems)
          if (!opts.json) process.stdout.write(`${file}: valid\n`)
        } catch (error) {
          if (!(error instanceof PipelineFileError)) throw error
          problems.push(error.message)
          entry.valid = report.valid = false
          entry.problems = error.problems
        }
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
      else if (problems.length > 0) process.stderr.write(`${problems.join('\n')}\n`)
      if (problems.length > 0) setExit(EXIT.invalid)
    })

  cli
    .command('plan')
    .description('show the jobs, matrix instances, containers and order a run would have')
    .argument('[file]', FILE_ARGUMENT)
    .addOption(
      new Option('--param <key=value>', 'set a param (repeatable)').default([]).argParser(collect)
    )
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['text', 'json', 'mermaid'])
        .default('text')
    )
    .option('--json', 'same as --format json')
    .action(
      async (
        given: string | undefined,
        opts: { param: string[]; format: string; json?: boolean }
      ) => {
        const pipeline = await loadPipelineFile(pipelineFileArg(given, process.cwd()))
        const { params, plan } = preparePlan(pipeline, parseParamFlags(opts.param))
        const format = opts.json ? 'json' : opts.format
        // The plan shows containers' environments: their secrets are masked there too.
        const masker = SecretMasker.forPipeline(pipeline, process.env)
        const document = () => {
          try {
            return masker.maskDeep(planDocument(plan, params, process.env))
          } catch (error) {
            throw masker.maskError(error)
          }
        }
        const out =
          format === 'mermaid'
            ? mermaidDiagram(plan)
            : format === 'json'
              ? JSON.stringify(document(), null, 2)
              : planText(document())
        process.stdout.write(`${out}\n`)
      }
    )

  cli
    .command('export')
    .description(
      'write the pipeline for another engine: an Argo Workflow, an Airflow DAG, AWS Batch jobs'
    )
    .argument('<file>', 'pipeline file (YAML)')
    .addOption(
      new Option('--to <target>', 'the engine').choices(EXPORT_TARGETS).makeOptionMandatory()
    )
    .addOption(
      new Option('--param <key=value>', 'set a param (repeatable)').default([]).argParser(collect)
    )
    .addOption(
      new Option('--set <key=value>', `a setting of the target (${SET_KEYS.join(', ')})`)
        .default([])
        .argParser(collect)
    )
    .addOption(
      new Option('--map <host=to>', `what a host folder is on the cluster: ${HOST_MAP_FORM}`)
        .default([])
        .argParser(collect)
    )
    .addOption(
      new Option(
        '--drop <key>',
        `leave out a key the target has no counterpart for (${DROPPABLE_KEYS.join(', ')})`
      )
        .default([])
        .argParser(collect)
    )
    .option('--template', 'argo: a WorkflowTemplate rather than a Workflow')
    .addOption(
      new Option('--platform <platform>', 'airflow: the operator each job becomes')
        .choices(['kubernetes', 'docker'])
        .default('kubernetes')
    )
    .option('-o, --output <file>', 'write to this file rather than stdout')
    .action(
      async (
        file: string,
        opts: {
          param: string[]
          set: string[]
          map: string[]
          drop: string[]
          to: ExportTarget
          template?: boolean
          platform: 'kubernetes' | 'docker'
          output?: string
        }
      ) => {
        const pipeline = await loadPipelineFile(file)
        const { params, plan } = preparePlan(pipeline, parseParamFlags(opts.param))
        const text = exportPipeline(opts.to, plan, params, exportOptions(opts, pipeline))
        if (opts.output) await writeOutput(opts.output, text)
        else process.stdout.write(text)
      }
    )

  cli
    .command('processes')
    .description(
      "list the processes the engine's images offer (labels process.NAME=COMMAND), described by running each"
    )
    .addOption(
      new Option('--image <ref>', 'only this image (repeatable)').default([]).argParser(collect)
    )
    .option('--json', 'print them as JSON')
    .action(async (opts: { image: string[]; json?: boolean }) => {
      const found = await discoverProcesses(
        await localEngine(process.env),
        opts.image,
        processCache()
      )
      process.stdout.write(`${opts.json ? JSON.stringify(found, null, 2) : processesText(found)}\n`)
    })

  cli
    .command('cleanup')
    .description('remove containers, volumes and networks that runs left behind, by label')
    .option('--run-id <id>', 'only what this run left (default: every ctr-pipeline resource)')
    .option('--backend <name>', `where the runs ran: ${BACKEND_NAMES.join(', ')}`, BACKEND_NAMES[0])
    .addOption(swarmHostOption())
    .action(async (opts: { runId?: string; backend: string; swarmHost?: string }) => {
      const runId = opts.runId === undefined ? undefined : checkRunId(opts.runId, '--run-id')
      const backend = createBackend(opts.backend, '--backend', {
        env: process.env,
        host: opts.swarmHost
      })
      await backend.ping()
      const removed = await backend.sweep(runId)
      process.stdout.write(
        `removed ${removed.containers} containers, ${removed.volumes} volumes, ${removed.networks} networks, ${removed.images} built images\n`
      )
    })

  cli
    .command('init')
    .description(
      'write a starter ctr-pipeline.yml (with the schema line for editors) and a workflow that runs it'
    )
    .option('--image <ref>', 'the image its jobs run in', DEFAULT_INIT_IMAGE)
    .option('--force', 'replace files that are there')
    .action(async (opts: { image: string; force?: boolean }) => {
      const written = await writeInitFiles(process.cwd(), {
        image: opts.image,
        force: opts.force ?? false
      })
      process.stdout.write(
        `${written.map((f) => `wrote ${f}`).join('\n')}\nnext: ctr-pipeline run (here), or push to run the workflow\n`
      )
    })

  cli
    .command('completion')
    .description('print the shell completion script: commands, flags, their choices, files')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS))
    .addHelpText('after', COMPLETION_HELP)
    .action((shell: CompletionShell) => {
      process.stdout.write(completionScript(shell, completionTree(cli)))
    })
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

/** Where process descriptions are cached, by image id. */
function processCache(): string {
  return path.join(
    process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'),
    'ctr-pipeline',
    'processes'
  )
}
