/** Values shorter than this are not masked: replacing every "1" in a log hides nothing. */
const MIN_SECRET_LENGTH = 4

/**
 * Variables the runner itself sets that carry no secret: masking `${GITHUB_SHA}` or
 * `${HOME}` would only blank out logs. Any name that says it holds a credential is
 * still masked (`GITHUB_TOKEN`).
 */
const NOT_SECRET =
  /^(?:(?:GITHUB|RUNNER)_\w+|CI|HOME|PATH|PWD|USER|SHELL|LANG|TERM|TMPDIR|HOSTNAME)$/
const CREDENTIAL = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH/i

/**
 * The values to mask for a pipeline's `${VAR}`s: every variable it hands to containers
 * except the runner's own plain ones, and every one of `secretNames` (a `--secret-file`'s)
 * whether the pipeline names it or not; a value of several lines is masked line by line
 * too (a log shows it a line at a time).
 */
export function secretValues(
  names: readonly string[],
  env: Record<string, string | undefined>,
  secretNames: readonly string[] = []
): string[] {
  const values = new Set<string>()
  const secret = new Set(secretNames)
  for (const name of [...names, ...secretNames]) {
    if (!secret.has(name) && NOT_SECRET.test(name) && !CREDENTIAL.test(name)) continue
    const value = env[name]
    if (!value) continue
    for (const part of [value, ...value.split(/\r?\n/)]) {
      if (part.trim().length >= MIN_SECRET_LENGTH) values.add(part)
    }
  }
  return [...values]
}
