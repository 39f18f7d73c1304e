/**
 * Names users bring from GitHub Actions, Docker Compose, `docker run` and ddeutil-workflow
 * for what this format names otherwise: an unknown key that is one of them is answered
 * with this format's name, where that name is a key of the same place.
 */
const OTHER_NAMES: Record<string, string> = {
  'timeout-minutes': 'timeout',
  timeout_minutes: 'timeout',
  steps: 'stages',
  depends_on: 'needs',
  'depends-on': 'needs',
  dependencies: 'needs',
  cpus: 'cpu',
  cpu_limit: 'cpu',
  mem_limit: 'memory',
  memory_limit: 'memory',
  mem: 'memory',
  mem_reservation: 'memory_reservation',
  memswap: 'memswap_limit',
  env: 'environment',
  environment: 'env',
  workdir: 'working_dir',
  'working-directory': 'working_dir',
  working_directory: 'working_dir',
  script: 'run',
  shell: 'type',
  runs_on: 'runs-on',
  volume: 'volumes',
  container: 'runs-on',
  image: 'runs-on',
  'continue-on-error': 'continue_on_error',
  description: 'desc'
}

/** What to mind where this format's name does not mean quite the same. */
const NOTES: Record<string, string> = {
  // GitHub's counts minutes; a bare number here is seconds.
  'timeout-minutes': 'it takes a unit, as in timeout: 30m',
  timeout_minutes: 'it takes a unit, as in timeout: 30m'
}

/**
 * The hint for an unknown key that is another tool's name: this format's name, where
 * `known` (the keys of its place) has it, and what to mind about it.
 */
export function otherName(key: string, known: readonly string[]): string | undefined {
  const name = OTHER_NAMES[key]
  if (name === undefined || !known.includes(name)) return undefined
  return `did you mean '${name}'?${NOTES[key] ? ` ${NOTES[key]}` : ''}`
}
