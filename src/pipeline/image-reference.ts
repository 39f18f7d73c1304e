/**
 * An image reference as the engine reads one (the grammar of distribution/reference):
 * `[HOST[:PORT]/]NAME[/NAME...][:TAG][@ALGORITHM:HEX]`, where NAME parts are lower-case
 * letters and digits joined by `.`, `_`, `__` or dashes. Written out rather than taken
 * from a library: the grammar is short and fixed, and Node packages for it either bring a
 * Docker client along or follow an older grammar.
 */
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?`
const NAME_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}'
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${NAME_PART}(?:/${NAME_PART})*(?::${TAG})?(?:@${DIGEST})?$`
)

/** Why `ref` is not an image reference the engine takes, or undefined when it is one. */
export function imageReferenceProblem(ref: string): string | undefined {
  if (ref === '') return 'is empty'
  if (ref.length > 255 + 128 + 80) return 'is too long for an image reference'
  if (REFERENCE.test(ref)) return undefined
  if (/\s/.test(ref)) return 'holds white space, which no image reference has'
  return 'is not an image reference ([HOST[:PORT]/]name[:tag][@digest], the name in lower case)'
}
