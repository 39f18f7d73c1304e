import { parseStageEnd, type StageEnd } from '../plan/stage-batches.js'
import type { OutputHandler, OutputStream } from '../backend/backend.js'
import { lineSplitter } from './line-splitter.js'

/**
 * Reads the output of a batch (batchCommand): hands on each line with the stage that
 * printed it, and each stage's end once both streams have passed its marker. The two
 * streams come through separate pipes, so one may run ahead: its lines wait until the
 * other has caught up with the stage they belong to, and a reporter sees every line of a
 * stage before that stage's end. The newline the driver writes before each marker is
 * taken out again, so a stage's output reads as it would on its own. A long line is never
 * cut inside one of `secrets` (see lineSplitter).
 */
export function batchOutput(
  marker: string,
  onLine: (stream: OutputStream, line: string) => void,
  onStageEnd: (end: StageEnd) => void,
  secrets: readonly string[] = []
): { push: OutputHandler; flush: () => void; ended: () => number } {
  const streams = {
    stdout: { passed: 0, blank: false },
    stderr: { passed: 0, blank: false }
  }
  /** Stages both streams have passed. */
  let ended = 0
  const ends: StageEnd[] = []
  const held: Array<{ stage: number; stream: OutputStream; line: string }> = []
  const emit = (stream: OutputStream, line: string) => {
    if (streams[stream].passed > ended) held.push({ stage: streams[stream].passed, stream, line })
    else onLine(stream, line)
  }
  const advance = () => {
    while (streams.stdout.passed > ended && streams.stderr.passed > ended) {
      onStageEnd(ends[ended])
      ended++
      const due = held.filter((h) => h.stage <= ended)
      if (due.length === 0) continue
      held.splice(0, held.length, ...held.filter((h) => h.stage > ended))
      for (const { stream, line } of due) onLine(stream, line)
    }
  }
  const lines = lineSplitter((stream, line) => {
    const state = streams[stream]
    const end = parseStageEnd(marker, line)
    if (end && end.stage === state.passed) {
      // The blank line before a marker is the driver's newline, not the stage's.
      state.blank = false
      state.passed++
      ends[end.stage] = end
      advance()
      return
    }
    if (state.blank) emit(stream, '')
    state.blank = line === ''
    if (!state.blank) emit(stream, line)
  }, secrets)
  return {
    push: lines.push,
    /** Hands on what is left: an unfinished stage's last lines. */
    flush: () => {
      lines.flush()
      for (const stream of ['stdout', 'stderr'] as const) {
        if (streams[stream].blank) emit(stream, '')
        streams[stream].blank = false
      }
      for (const { stream, line } of held.splice(0)) onLine(stream, line)
    },
    ended: () => ended
  }
}
