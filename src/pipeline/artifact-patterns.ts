import picomatch from 'picomatch'

/** Where an absolute artifact pattern is read from: the folder before its first wildcard. */
export function artifactBase(absolute: string): { base: string; glob: string; isGlob: boolean } {
  const { base, glob, isGlob } = picomatch.scan(absolute)
  return { base, glob, isGlob }
}

/**
 * Why an absolute artifact pattern cannot be copied, if it cannot: a glob that starts at
 * `/` would archive the container's whole filesystem to match it.
 */
export function artifactPatternProblem(absolute: string): string | undefined {
  const { base, isGlob } = artifactBase(absolute)
  return isGlob && (base === '' || base === '/')
    ? `'${absolute}' would copy the container's whole filesystem; start it with a folder`
    : undefined
}
