/**
 * Names users bring from GitHub Actions, Docker Compose, `docker run` and ddeutil-workflow
 * for what this format names otherwise: an unknown key that is one of them is answered
 * with this format's name, where that name is a key of the same place.
 */
const OTHER_NAMES: Record<string, string> = {
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
  'timeout-minutes': 'timeout',
  timeout_minutes: 'timeout',
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

/** This format's name for `key` where `known` (the keys of its place) has it. */
export function otherName(key: string, known: readonly string[]): string | undefined {
  const name = OTHER_NAMES[key]
  return name !== undefined && known.includes(name) ? name : undefined
}
