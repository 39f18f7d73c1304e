import { Command, Option } from 'commander'
import { homedir } from 'node:os'
import path from 'node:path'
import { checkProcesses } from '../app/check-processes.js'
import { discoverProcesses, processesText, type ProcessEngine } from '../app/discover-processes.js'
import { checkPlan, preparePlan } from '../app/prepare-plan.js'
import { mermaidDiagram } from '../plan/mermaid.js'
import { planDocument } from '../plan/plan-document.js'
import { planText } from '../report/plan-text.js'
import { EXIT } from '../app/run-session.js'
import { SecretMasker } from '../report/secret-masker.js'
import { loadAllWorkflows, loadPipelineFile } from '../pipeline/load-pipeline.js'
import { localEngine } from '../app/backends.js'
import { formatProblem, PipelineFileError, type FileProblem } from '../pipeline/file-problems.js'
import { DEFAULT_FILES, pipelineFileArg } from './default-file.js'
import {
  collect,
  defaultImageOption,
  loadOptions,
  parseParamFlags,
  FILE_ARGUMENT,
  workflowOption
} from './cli-flags.js'

/** `validate`, `plan` and `processes`: what a file or the engine's images hold, nothing run. */
export function addInspectCommands(cli: Command, setExit: (status: number) => void): void {
  cli
    .command('validate')
    .description('check pipeline files; prints every problem as FILE:LINE:COL: message')
    .argument('[files...]', `pipeline files (default: the first of ${DEFAULT_FILES.join(', ')})`)
    .option('--json', 'print one JSON document: each file, whether it is valid, its problems')
    .addOption(defaultImageOption())
    .action(async (given: string[], opts: { json?: boolean; defaultImage?: string }) => {
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
          for (const pipeline of await loadAllWorkflows(file, loadOptions(opts))) {
            checkPlan(pipeline)
            const processes = await checkProcesses(pipeline, connect, processCache())
            const notes = [...pipeline.warnings.map(formatProblem), ...processes.notes]
            entry.notes.push(...notes)
            for (const note of notes)
              if (!opts.json) process.stdout.write(`${file}: note: ${note}\n`)
            if (processes.problems.length > 0) throw new PipelineFileError(processes.problems)
          }
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
    .addOption(workflowOption())
    .addOption(defaultImageOption())
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
        opts: {
          param: string[]
          format: string
          json?: boolean
          workflow?: string
          defaultImage?: string
        }
      ) => {
        const pipeline = await loadPipelineFile(
          pipelineFileArg(given, process.cwd()),
          loadOptions(opts)
        )
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
}

/** What `validate --json` prints: every file, valid or not, with its problems and notes. */
interface ValidationReport {
  valid: boolean
  files: Array<{ file: string; valid: boolean; problems: FileProblem[]; notes: string[] }>
}

/** Where process descriptions are cached, by image id. */
function processCache(): string {
  return path.join(
    process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'),
    'ctr-pipeline',
    'processes'
  )
}
