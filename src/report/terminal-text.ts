/**
 * Every escape or control sequence a terminal acts on: CSI (`ESC [` … final byte), OSC
 * (`ESC ]` … BEL or ST, or to the end when unterminated), DCS/SOS/PM/APC strings, the
 * other `ESC` sequences, 8-bit C1 controls, and the C0 controls but tab, newline and
 * carriage return. Hand-written rather than `ansi-regex`: that one matches what terminals
 * commonly print, for measuring text; a sanitiser must also take malformed and
 * unterminated sequences, so this takes every ESC with what follows it, and any control.
 */
const CONTROL =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]?|[\x80-\x9f]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g

/** Select Graphic Rendition: colours and bold, which change how text looks, nothing else. */
// eslint-disable-next-line no-control-regex
const SGR = /^\x1b\[[0-9;:]*m$/

/** Whether text holds anything CONTROL takes: most lines do not, and are returned as they are. */
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/

/**
 * Text as it may reach a terminal or a log: every escape sequence and control character
 * is removed (erase line, cursor moves, OSC 52 clipboard writes, OSC 8 links, title
 * changes, bells) except, with `keepColour`, colour (SGR) sequences. Tab, newline and
 * carriage return stay.
 */
export function sanitiseTerminal(text: string, keepColour: boolean): string {
  if (!ANY_CONTROL.test(text)) return text
  return text.replace(CONTROL, (sequence) => (keepColour && SGR.test(sequence) ? sequence : ''))
}

/**
 * Text as it may reach a GitHub runner's log, where the runner reads workflow commands:
 * `::command::` at the start of a line (after blanks), and the legacy `##[command]`
 * anywhere in one. The runner splits lines at `\n`, `\r` and `\r\n`, so a value with a
 * carriage return starts a line of its own. A zero-width space after the first `:` (or
 * after `##`) stops the runner from reading a command and reads the same.
 */
export function neutraliseRunnerCommands(text: string): string {
  let out = text.includes('##[') ? text.replaceAll('##[', '##\u200b[') : text
  if (out.includes('::')) out = out.replace(/(^|[\r\n])([^\S\r\n]*):(?=:)/g, '$1$2:\u200b')
  return out
}
