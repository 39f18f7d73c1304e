import type { Annotation } from './run-result.js'

/** At most this many annotations are kept per stage; GitHub shows fewer per step anyway. */
export const MAX_ANNOTATIONS_PER_STAGE = 50

/** What a stage wrote to `$CTR_ANNOTATIONS`, and the lines that could not be read. */
export interface AnnotationFile {
  annotations: Annotation[]
  problems: string[]
}

const LINE = /^::(error|warning|notice)(?:\s+([^:]*))?::(.*)$/
const PROPERTIES: Record<string, keyof Annotation> = {
  file: 'file',
  line: 'line',
  endLine: 'end_line',
  col: 'col',
  endColumn: 'end_col',
  title: 'title'
}
const NUMERIC = new Set<keyof Annotation>(['line', 'end_line', 'col', 'end_col'])

/**
 * Parses `$CTR_ANNOTATIONS`: one annotation per line in the syntax of GitHub's workflow
 * commands, `::error file=data/sales.csv,line=12,col=3,title=Bad row::price is empty`
 * (levels error, warning, notice; `%0A`, `%25`, `%2C`, `%3A` escapes as GitHub reads
 * them). Keeps the first MAX_ANNOTATIONS_PER_STAGE; a line that is not an annotation is
 * a problem, not a failure of the stage.
 */
export function parseAnnotationFile(text: string): AnnotationFile {
  const annotations: Annotation[] = []
  const problems: string[] = []
  let dropped = 0
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '')
    if (line.trim() === '') return
    const match = LINE.exec(line)
    if (!match) {
      problems.push(
        `$CTR_ANNOTATIONS line ${i + 1} is not '::error|warning|notice file=F,line=N::message': '${line.slice(0, 80)}'`
      )
      return
    }
    if (annotations.length >= MAX_ANNOTATIONS_PER_STAGE) {
      dropped += 1
      return
    }
    const annotation: Annotation = {
      level: match[1] as Annotation['level'],
      message: unescape(match[3])
    }
    for (const pair of (match[2] ?? '').split(',')) {
      const equals = pair.indexOf('=')
      if (equals < 0) continue
      const key = PROPERTIES[pair.slice(0, equals).trim()]
      const value = unescape(pair.slice(equals + 1))
      if (!key) continue
      if (!NUMERIC.has(key)) (annotation as unknown as Record<string, string>)[key] = value
      else if (/^[1-9]\d*$/.test(value))
        (annotation as unknown as Record<string, number>)[key] = Number(value)
    }
    annotations.push(annotation)
  })
  if (dropped > 0)
    problems.push(
      `${dropped} more annotations dropped (at most ${MAX_ANNOTATIONS_PER_STAGE} per stage)`
    )
  return { annotations, problems }
}

function unescape(text: string): string {
  return text.replace(/%(25|0A|0D|2C|3A)/gi, (_, code: string) =>
    String.fromCharCode(parseInt(code, 16))
  )
}
