import { CTR_ROOT, WORKSPACE_DIR } from '../../plan/container-paths.js'
import type { ServiceSpec } from './service-spec.js'

/**
 * Local volumes exist per node, so on a swarm the run's workspace lives in a service of
 * its own: a small helper image (BusyBox: `httpd`, `tar`) on the run's network that keeps
 * it in its volume and serves it over HTTP. Each task fetches the workspace before its
 * command and sends back what its command wrote after. Only the manager's API is used,
 * nothing needs shared storage, and a job reads what the jobs it needs wrote on any node.
 */

/** The name the workspace service answers to on the run's network. */
export const WORKSPACE_ALIAS = 'ctr-workspace'
const PORT = 7070

/** Where tasks reach it. */
export const WORKSPACE_URL = `http://${WORKSPACE_ALIAS}:${PORT}/cgi-bin`

/** The helper image when none is given: BusyBox, which every registry mirror carries. */
export const DEFAULT_HELPER_IMAGE = 'busybox:1.36'

/** CGI scripts of the service: the workspace as a tar stream, and a tar stream added to it. */
const PULL =
  '#!/bin/sh\nprintf "Content-Type: application/x-tar\\r\\n\\r\\n"\nexec tar c -C /store .\n'
const PUSH = [
  '#!/bin/sh',
  // BusyBox's wget posts text only (it stops at the first NUL): it sends base64.
  'if [ "$QUERY_STRING" = b64 ]; then base64 -d | tar x -C /store -f - >&2 || exit 1',
  'else tar x -C /store -f - >&2 || exit 1; fi',
  'printf "Content-Type: text/plain\\r\\n\\r\\nok\\n"',
  ''
].join('\n')

/** The run's workspace service: one replica that runs until the run removes it. */
export function workspaceServiceSpec(options: {
  name: string
  image: string
  network: string
  labels: Record<string, string>
}): ServiceSpec {
  const script = [
    'mkdir -p /srv/cgi-bin /store',
    'printf "%s" "$PULL" > /srv/cgi-bin/pull',
    'printf "%s" "$PUSH" > /srv/cgi-bin/push',
    'chmod 755 /srv/cgi-bin/pull /srv/cgi-bin/push',
    `exec httpd -f -p ${PORT} -h /srv`
  ].join('\n')
  return {
    Name: options.name,
    Labels: options.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: options.image,
        Labels: options.labels,
        Command: ['sh', '-c', script],
        Env: [`PULL=${PULL}`, `PUSH=${PUSH}`],
        Mounts: [{ Type: 'volume', Target: '/store' }],
        StopSignal: 'SIGKILL'
      },
      Resources: { Limits: {} },
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Placement: {},
      Networks: [{ Target: options.network, Aliases: [WORKSPACE_ALIAS] }]
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr' }
  }
}

/**
 * Shell functions a task's wrapper uses: `ws_pull` fetches the workspace into
 * WORKSPACE_DIR, `ws_push` sends the files its command wrote. A file counts as written
 * when its mtime is newer than the pull's: fetched files are set to the first second of
 * 1970, so a job's writes (which set the time to now) are told from what it fetched
 * without comparing contents, and jobs that run at once send only their own files.
 * Deletions and empty folders are not sent. Any of curl, wget or python3 in the image
 * does the HTTP; an image with none fails with a line saying so. `ws_mark` alone stands
 * for `ws_pull` while no task has sent anything: the first jobs of a run do not wait for
 * the service (a new overlay endpoint takes the other nodes a few seconds to learn).
 */
export const WORKSPACE_CLIENT = [
  `w=${WORKSPACE_DIR}; r=${CTR_ROOT}; u=${WORKSPACE_URL}`,
  'ws_none() { echo "ctr-pipeline: the image has none of curl, wget and python3, one of which a swarm task needs to reach the run workspace" >&2; return 1; }',
  'ws_get() {',
  '  if command -v curl >/dev/null 2>&1; then curl -fsS "$u/pull"',
  '  elif command -v wget >/dev/null 2>&1; then wget -qO- "$u/pull"',
  `  elif command -v python3 >/dev/null 2>&1; then python3 -c 'import shutil,sys,urllib.request; shutil.copyfileobj(urllib.request.urlopen(sys.argv[1], timeout=600), sys.stdout.buffer)' "$u/pull"`,
  '  else ws_none; fi; }',
  'ws_put() {',
  '  if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null -H "Content-Type: application/x-tar" --data-binary "@$1" "$u/push"',
  '  elif command -v wget >/dev/null 2>&1; then base64 "$1" > "$1.b64" && wget -qO /dev/null --post-file="$1.b64" "$u/push?b64"',
  `  elif command -v python3 >/dev/null 2>&1; then python3 -c 'import os,sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb"), headers={"Content-Length": str(os.path.getsize(sys.argv[2])), "Content-Type": "application/x-tar"}), timeout=600).read()' "$u/push" "$1"`,
  '  else ws_none; fi; }',
  // The service may still be starting when the first task asks.
  'ws_pull() { n=0; until ws_get > "$r/.ctr-pull.tar"; do n=$((n+1)); [ $n -lt 5 ] || return 1; sleep 1; done',
  '  tar x -C "$w" -f "$r/.ctr-pull.tar" && rm -f "$r/.ctr-pull.tar" && ws_mark; }',
  'ws_mark() { find "$w" -exec touch -c -d "1970-01-01 00:00:01" {} + && touch -d "1970-01-01 00:00:02" "$r/.ctr-pulled"; }',
  'ws_push() { (cd "$w" && find . -newer "$r/.ctr-pulled" ! -type d > "$r/.ctr-push.list") || return 1',
  '  [ -s "$r/.ctr-push.list" ] || return 0',
  // BusyBox's tar reads no file list (-T): the names go as arguments, one per line.
  '  (cd "$w" && IFS="\n" && set -f && set -- $(cat "$r/.ctr-push.list") && tar c -f "$r/.ctr-push.tar" --no-recursion "$@") && ws_put "$r/.ctr-push.tar" && ws_sent=1; }'
].join('\n')
