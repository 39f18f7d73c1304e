import type { ContainerSpec, JobSpec } from '../../src/pipeline/pipeline-types.js'

/** A validated job `prep` as the loader makes it: `runs-on.with` from `container`. */
export function jobSpec(container: Partial<ContainerSpec>, stages: boolean): JobSpec {
  return {
    id: 'prep',
    needs: [],
    outputs: {},
    retry: { count: 0, delay_ms: 0 },
    artifacts: [],
    services: {},
    allow_host_access: false,
    position: { file: 'p.yml', line: 1, col: 1 },
    stages: stages ? [] : undefined,
    container: {
      image: 'img',
      pull: 'missing',
      volumes: [],
      environment: {},
      resources: {},
      network: { ports: {}, extra_hosts: {}, dns: [] },
      tmpfs: {},
      ulimits: {},
      read_only: false,
      cap_add: [],
      cap_drop: [],
      privileged: false,
      labels: {},
      ...container
    }
  }
}
