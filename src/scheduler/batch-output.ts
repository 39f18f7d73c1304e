import { parseStageEnd, type StageEnd } from '../plan/stage-batches.js'
import type { OutputHandler, OutputStream } from '../backend/backend.js'
import { lineSplitter } from './line-splitter.js'

/**
 * Reads the output of a batch (batchCommand): hands on lines with the stage that printed
 * them (as lineSplitter does: a text of whole lines joined by `\n`), and each stage's end
 * once both streams have passed its marker. The two streams come through separate pipes,
 * so one may run ahead: its lines wait until the other has caught up with the stage they
 * belong to, and a reporter sees every line of a stage before that stage's end. The
 * newline the driver writes before each marker is taken out again, so a stage's output
 * reads as it would on its own. A long line is never cut inside one of `secrets`.
 */
export function batchOutput(
  marker: string,
  onLines: (stream: OutputStream, text: string) => void,
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
  const held: Array<{ stage: number; stream: OutputStream; text: string }> = []
  const emit = (stream: OutputStream, text: string) => {
    if (streams[stream].passed > ended) held.push({ stage: streams[stream].passed, stream, text })
    else onLines(stream, text)
  }
  const advance = () => {
    while (streams.stdout.passed > ended && streams.stderr.passed > ended) {
      onStageEnd(ends[ended])
      ended++
      const due = held.filter((h) => h.stage <= ended)
      if (due.length === 0) continue
      held.splice(0, held.length, ...held.filter((h) => h.stage > ended))
      for (const { stream, text } of due) onLines(stream, text)
    }
  }
  /** A stage's lines, its last blank one held back: before a marker, it is the driver's. */
  const stageLines = (stream: OutputStream, text: string) => {
    const state = streams[stream]
    const lines = state.blank ? `\n${text}` : text
    if (lines === '') {
      state.blank = true
      return
    }
    state.blank = lines.endsWith('\n')
    emit(stream, state.blank ? lines.slice(0, -1) : lines)
  }
  const lines = lineSplitter((stream, text) => {
    const state = streams[stream]
    // A marker starts a line; most texts have none, and go on whole.
    let start = 0
    for (let search = 0; search <= text.length;) {
      const at = markerLineAt(text, marker, search)
      if (at === -1) break
      const eol = text.indexOf('\n', at)
      const next = eol === -1 ? text.length + 1 : eol + 1
      const end = parseStageEnd(marker, text.slice(at, eol === -1 ? undefined : eol))
      if (end && end.stage === state.passed) {
        if (at > start) stageLines(stream, text.slice(start, at - 1))
        state.blank = false
        state.passed++
        ends[end.stage] = end
        advance()
        start = next
      }
      search = next
    }
    if (start <= text.length) stageLines(stream, text.slice(start))
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
      for (const { stream, text } of held.splice(0)) onLines(stream, text)
    },
    ended: () => ended
  }
}

/** Where the first line at or after `from` (a line's start) that begins with `marker` is. */
function markerLineAt(text: string, marker: string, from: number): number {
  if (text.startsWith(marker, from)) return from
  const at = text.indexOf(`\n${marker}`, from)
  return at === -1 ? -1 : at + 1
}
