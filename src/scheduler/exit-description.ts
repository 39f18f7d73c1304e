import { formatMemory } from '../pipeline/quantities.js'

/**
 * What an exit code means and what to check, where it says more than "the command
 * failed". Seed 001's table named these codes; the meanings here are the ones the shell
 * and Docker actually give them.
 */
const EXIT_HINTS: Record<number, string> = {
  125: 'the container runtime could not run the command; check the image and the runs-on.with options',
  126: 'the command was found but cannot be executed; check its permissions (chmod +x) and that it is built for this platform',
  127: 'command not found; check its name and that the image provides it',
  137: 'killed by SIGKILL: stopped from outside, or the host ran out of memory',
  139: 'segmentation fault (SIGSEGV): the program crashed; check that the image is built for this platform',
  143: 'stopped by SIGTERM'
}

/** Whether the kernel killed a process of the container for memory, and the limit it had. */
export interface MemoryKill {
  killed: boolean
  /** The container's memory limit in bytes; none when it had no limit. */
  limitBytes?: number
}

/**
 * Explains an exit code in one line. A kill for memory is said first, with the limit it
 * hit, since the exit code alone (137, or whatever a script makes of a killed child)
 * does not tell it from a kill from outside.
 */
export function describeExit(code: number, memory?: MemoryKill): string {
  if (memory?.killed) {
    const cause = memory.limitBytes
      ? `it hit its memory limit of ${formatMemory(memory.limitBytes)} (resources.memory)`
      : 'the host ran out of memory'
    return code === 137
      ? `killed for memory: ${cause}; exit code 137`
      : `exit code ${code}, after a process was killed for memory: ${cause}`
  }
  const hint = EXIT_HINTS[code]
  return hint ? `exit code ${code}: ${hint}` : `exit code ${code}`
}
