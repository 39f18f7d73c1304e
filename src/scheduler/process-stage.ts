import type { Backend, OutputHandler } from '../backend/backend.js'
import {
  parseDescription,
  processesOf,
  processInput,
  processOutputs,
  ProcessIoError,
  type ProcessDescription
} from '../plan/processes.js'
import { closest } from '../pipeline/closest.js'
import { PROCESS_INPUT_SH } from './scripts/assets.js'
import type { StageSpec } from '../pipeline/pipeline-types.js'

/** A process stage made ready to run: its command, and how its answer is read. */
export interface ProcessCall {
  /** The exec that pipes the input JSON into the process. */
  command: string[]
  /** Keeps stdout (the answer) and passes stderr (its log) on. */
  onOutput(logs: OutputHandler): OutputHandler
  /** The stage's outputs from the answer; throws ProcessIoError quoting it. */
  outputs(): Record<string, string>
}

/** What a process stage needs from its job. */
export interface ProcessContext {
  backend: Backend
  containerId: string
  /** The job's image: its labels name the processes. */
  image: string
  /** The most bytes a process may answer with (CTR_OUTPUT_LIMIT). */
  limitBytes: number
}

/**
 * Gets a `type: process` stage ready in the job's container, as seed 003 runs them: the
 * process's command from the image's label, its description from running it with nothing
 * on stdin, the stage's inputs checked against it and rendered to their types. The
 * command then pipes them in as JSON; processes of one image share the job's container.
 */
export async function prepareProcess(
  stage: StageSpec,
  ctx: ProcessContext,
  render: (text: string) => string
): Promise<ProcessCall> {
  const processes = processesOf(await ctx.backend.imageLabels(ctx.image))
  const name = stage.process ?? ''
  const command = processes[name]
  if (command === undefined) {
    const known = Object.keys(processes)
    const hint = closest(name, known)
    throw new ProcessIoError(
      `image ${ctx.image} has no process '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}: ` +
        (known.length ? `it has ${known.join(', ')}` : 'it has no process.NAME labels')
    )
  }
  const description = await describe(command, ctx)
  const input = JSON.stringify(processInput(stage.inputs ?? {}, description, render))
  let answer = ''
  let tooLong = false
  return {
    command: ['sh', '-c', PROCESS_INPUT_SH, 'ctr-process', input, command],
    onOutput: (logs) => (stream, chunk) => {
      if (stream === 'stderr') return logs(stream, chunk)
      if (answer.length + chunk.length > ctx.limitBytes) tooLong = true
      else answer += chunk.toString('utf8')
      return undefined
    },
    outputs: () => {
      if (tooLong)
        throw new ProcessIoError(
          `its output is more than the ${ctx.limitBytes} bytes a stage may hand on (CTR_OUTPUT_LIMIT)`
        )
      return processOutputs(answer, description)
    }
  }
}

/** Runs the process with nothing on stdin: it prints what it takes and gives. */
async function describe(command: string, ctx: ProcessContext): Promise<ProcessDescription> {
  let stdout = ''
  let stderr = ''
  const code = await ctx.backend.exec(
    ctx.containerId,
    ['sh', '-c', `${command} </dev/null`],
    [],
    (stream, chunk) => {
      if (stream === 'stdout') stdout += chunk.toString('utf8')
      else stderr += chunk.toString('utf8')
      return undefined
    }
  )
  if (code !== 0)
    throw new ProcessIoError(
      `describing it ('${command}' with nothing on stdin) exited with ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`
    )
  try {
    return parseDescription(stdout)
  } catch (error) {
    throw new ProcessIoError(`describing it: ${(error as Error).message}`)
  }
}
