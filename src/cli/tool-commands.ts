import { Argument, Command, Option } from 'commander'
import { preparePlan } from '../app/prepare-plan.js'
import { mergeResultFiles, writeResult } from '../app/fan-out.js'
import { exitStatusOf } from '../app/run-session.js'
import { loadPipelineFile } from '../pipeline/load-pipeline.js'
import { BACKEND_NAMES, chooseBackend, createBackend } from '../app/backends.js'
import { checkRunId } from '../scheduler/run-id.js'
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
import {
  collect,
  defaultImageOption,
  loadOptions,
  swarmHostOption,
  parseParamFlags,
  workflowOption,
  writeOutput
} from './cli-flags.js'

/** `results merge`, `export`, `cleanup`, `init` and `completion`. */
export function addToolCommands(cli: Command, setExit: (status: number) => void): void {
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
    .addOption(workflowOption())
    .addOption(defaultImageOption())
    .action(
      async (
        file: string,
        paths: string[],
        opts: { param: string[]; result?: string; workflow?: string; defaultImage?: string }
      ) => {
        const pipeline = await loadPipelineFile(file, loadOptions(opts))
        const { plan } = preparePlan(pipeline, parseParamFlags(opts.param))
        const merged = await mergeResultFiles(plan, paths, 'results merge')
        if (opts.result) await writeResult(opts.result, merged)
        else process.stdout.write(`${JSON.stringify(merged, null, 2)}\n`)
        for (const job of merged.jobs) process.stderr.write(`${job.id}: ${job.status}\n`)
        process.stderr.write(`${merged.status}\n`)
        setExit(exitStatusOf(merged))
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
    .addOption(workflowOption())
    .addOption(defaultImageOption())
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
          workflow?: string
          defaultImage?: string
        }
      ) => {
        const pipeline = await loadPipelineFile(file, loadOptions(opts))
        const { params, plan } = preparePlan(pipeline, parseParamFlags(opts.param))
        const text = exportPipeline(opts.to, plan, params, exportOptions(opts, pipeline))
        if (opts.output) await writeOutput(opts.output, text)
        else process.stdout.write(text)
      }
    )

  cli
    .command('cleanup')
    .description('remove containers, volumes and networks that runs left behind, by label')
    .option('--run-id <id>', 'only what this run left (default: every ctr-pipeline resource)')
    .option('--backend <name>', `where the runs ran: ${BACKEND_NAMES.join(', ')}`, BACKEND_NAMES[0])
    .addOption(swarmHostOption())
    .action(async (opts: { runId?: string; backend: string; swarmHost?: string }) => {
      const runId = opts.runId === undefined ? undefined : checkRunId(opts.runId, '--run-id')
      const choice = chooseBackend(opts.backend, '--backend', { host: opts.swarmHost })
      const backend = createBackend(choice, process.env)
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
}

/** How to install what `completion` prints. */
const COMPLETION_HELP = `
Install:
  bash  echo 'source <(ctr-pipeline completion bash)' >> ~/.bashrc
  zsh   echo 'source <(ctr-pipeline completion zsh)' >> ~/.zshrc
  fish  ctr-pipeline completion fish > ~/.config/fish/completions/ctr-pipeline.fish`
