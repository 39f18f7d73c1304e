/** `ulimit` flags (POSIX sh, busybox, bash) of the limits counted in the units Docker takes. */
const SHELL_FLAGS: Record<string, string> = {
  nofile: 'n',
  nproc: 'u',
  cpu: 't',
  sigpending: 'i',
  locks: 'x',
  msgqueue: 'q',
  nice: 'e',
  rtprio: 'r'
}

/**
 * `cmd` run with the container's soft limits. The engine gives an exec'd process the
 * hard limits the container has, but as soft limits whatever its own process had (seen
 * with runc on Docker 20.10: `nofile 1024:2048` showed 2048 in a stage), so a stage would
 * not see the soft limit the file asked for. Limits the shell counts in other units than
 * Docker's bytes (stack, core...) are left as the engine sets them. Unchanged when there
 * is nothing to set.
 */
export function withSoftLimits(
  cmd: string[],
  ulimits: ReadonlyArray<{ name: string; soft: number }>
): string[] {
  const settings = ulimits
    .filter((u) => Object.hasOwn(SHELL_FLAGS, u.name) && u.soft >= 0)
    .map((u) => `ulimit -S -${SHELL_FLAGS[u.name]} ${u.soft} 2>/dev/null`)
  if (settings.length === 0 || cmd.length === 0) return cmd
  return ['sh', '-c', `${settings.join('; ')}; exec "$@"`, 'ctr-limits', ...cmd]
}
