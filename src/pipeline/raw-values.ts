/** A mapping of the parsed file, before the schema's word on it is taken. */
export type Raw = Record<string, unknown>

/** Readers of parsed YAML values that return a safe empty value for the wrong shape. */
export const isRecord = (v: unknown): v is Raw =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
export const record = (v: unknown): Raw => (isRecord(v) ? v : {})
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
export const string = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
/** The strings of a list (the schema reports anything else). */
export const strings = (v: unknown): string[] =>
  list(v).filter((x): x is string => typeof x === 'string')
/** A scalar read as text: `cpu: 2` and `DEBUG: true` are as good as their quoted forms. */
export const text = (v: unknown): string | undefined =>
  ['string', 'number', 'boolean'].includes(typeof v) ? String(v) : undefined
export const textMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(record(v)).flatMap(([k, x]) => (text(x) === undefined ? [] : [[k, text(x)]]))
  ) as Record<string, string>
