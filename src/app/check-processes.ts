import { closest } from '../pipeline/closest.js'
import { allStages } from '../pipeline/nested-stages.js'
import type { Pipeline } from '../pipeline/pipeline-types.js'
import type { FileProblem } from '../pipeline/file-problems.js'
import {
  discoverProcesses,
  type DiscoveredProcess,
  type ProcessEngine
} from './discover-processes.js'

/** What `validate` could say of a file's process stages from the engine's images. */
export interface ProcessCheck {
  /** Process names and input keys the image does not have, at their stage. */
  problems: FileProblem[]
  /** What could not be checked, and why. */
  notes: string[]
}

/**
 * Checks each `process` stage against its job's image on the engine: the process must be
 * one of the image's, and each input key one its description names. What is not on the
 * engine (no engine, an image not pulled or built yet, a templated or built image) is
 * said as a note, since it is checked when the stage runs.
 */
export async function checkProcesses(
  pipeline: Pipeline,
  engine: (() => Promise<ProcessEngine>) | undefined,
  cacheDir: string
): Promise<ProcessCheck> {
  const check: ProcessCheck = { problems: [], notes: [] }
  const jobs = pipeline.jobs.filter((j) =>
    allStages(j.stages ?? []).some(([, s]) => s.type === 'process')
  )
  if (jobs.length === 0) return check
  let connected: ProcessEngine | undefined
  try {
    connected = await engine?.()
  } catch (error) {
    check.notes.push(`process stages not checked: ${(error as Error).message}`)
    return check
  }
  for (const job of jobs) {
    const image = job.container.image
    if (job.container.build || image === '' || /\{\{|\$\{/.test(image)) {
      check.notes.push(
        `jobs.${job.id}: its image is built or templated: its processes are checked when it runs`
      )
      continue
    }
    let found: DiscoveredProcess[]
    try {
      found = connected ? await discoverProcesses(connected, [image], cacheDir) : []
    } catch {
      check.notes.push(
        `jobs.${job.id}: image ${image} is not on the engine: its processes are checked when it runs`
      )
      continue
    }
    allStages(job.stages!).forEach(([at, stage]) => {
      if (stage.type !== 'process') return
      const where = `jobs.${job.id}.stages${at}`
      const process = found.find((p) => p.name === stage.process)
      if (!process) {
        const names = found.map((p) => p.name)
        const hint = closest(stage.process ?? '', names)
        check.problems.push({
          ...stage.position,
          message: `${where}: image ${image} has no process '${stage.process}'${hint ? ` (did you mean '${hint}'?)` : ''}${names.length ? `; it has ${names.join(', ')}` : ''}`
        })
        return
      }
      if (!process.inputs) return
      const keys = Object.keys(process.inputs)
      for (const key of Object.keys(stage.inputs ?? {}))
        if (!keys.includes(key)) {
          const hint = closest(key, keys)
          check.problems.push({
            ...stage.position,
            message: `${where}: process '${process.name}' has no input '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}; its inputs: ${keys.join(', ')}`
          })
        }
    })
  }
  return check
}
