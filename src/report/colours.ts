import { styleText } from 'node:util'

type Style = Parameters<typeof styleText>[0]

/** Job prefixes take these, by their id: neither red nor green, which say failure and success. */
const JOB_COLOURS: Style[] = [
  'cyan',
  'magenta',
  'blue',
  'yellow',
  'cyanBright',
  'magentaBright',
  'blueBright'
]

/** useColour has decided: styleText must not look at process.stdout again (Node >= 20.19 would). */
const NO_CHECK = { validateStream: false }

/** The colour of each status word. */
const STATUS_COLOURS: Record<string, Style> = {
  success: 'green',
  failure: 'red',
  cancelled: 'yellow',
  skipped: 'gray'
}

/**
 * Whether to colour what goes to `stream`: on a terminal, unless `NO_COLOR` is set to
 * anything (no-color.org); `FORCE_COLOR` set to anything but `0` turns it on anywhere.
 */
export function useColour(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined>
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0'
  return stream.isTTY === true
}

/** Paints a job's `[id]` prefix and status words; plain text when colour is off. */
export class Painter {
  constructor(private readonly on: boolean) {}

  /** `[id]` in the job's colour: the same id, the same colour, in every run. */
  job(id: string): string {
    const text = `[${id}]`
    if (!this.on) return text
    let hash = 0x811c9dc5
    for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193)
    return styleText(JOB_COLOURS[(hash >>> 0) % JOB_COLOURS.length], text, NO_CHECK)
  }

  /** A status word (`success`, `failure`, `cancelled`, `skipped`) in its colour. */
  status(word: string): string {
    const style = STATUS_COLOURS[word]
    return this.on && style ? styleText(style, word, NO_CHECK) : word
  }
}
