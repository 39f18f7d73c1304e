import { CTR_ROOT } from '../../plan/container-paths.js'

/**
 * Local volumes exist per node, so on a swarm the run's workspace (and each of the file's
 * named volumes that is not external) lives in a service of its own: a small helper image
 * (BusyBox: `httpd`, `tar`) on the run's network that keeps it in its volume and serves it
 * over HTTP. Each task fetches the workspace before its
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

/**
 * Each store is a folder of the service's volume: `w`, the run's workspace, and `v0`,
 * `v1`, … for the file's named volumes (see storeOf). The query names the store, so that
 * nothing but those names reaches a path.
 */
const STORE = [
  '#!/bin/sh',
  's=${QUERY_STRING%&b64}',
  'case $s in w) ;; v|v*[!0-9]*) exit 1 ;; v*) ;; *) exit 1 ;; esac',
  'mkdir -p "/data/$s" || exit 1'
]
/** CGI scripts of the service: a store as a tar stream, and a tar stream added to it. */
const PULL = [
  ...STORE,
  'printf "Content-Type: application/x-tar\\r\\n\\r\\n"',
  'exec tar c -C "/data/$s" .',
  ''
].join('\n')
const PUSH = [
  ...STORE,
  // BusyBox's wget posts text only (it stops at the first NUL): it sends base64.
  'if [ "$s" != "$QUERY_STRING" ]; then base64 -d | tar x -C "/data/$s" -f - >&2 || exit 1',
  'else tar x -C "/data/$s" -f - >&2 || exit 1; fi',
  'printf "Content-Type: text/plain\\r\\n\\r\\nok\\n"',
  ''
].join('\n')

/** The store of the run's workspace. */
export const WORKSPACE_STORE = 'w'

/** The store of the run's n-th named volume that the service keeps. */
export function storeOf(n: number): string {
  return `v${n}`
}

/**
 * Where a task waits for its batch (see BATCH_CLIENT): the CGI answers once the backend
 * has put `ID` and then `ID.ok` into BATCH_DIR, or after about 10 s with nothing, and
 * hands each batch out once. IDs are random hex: nothing else reaches a path.
 */
const BATCH = [
  '#!/bin/sh',
  'id=$QUERY_STRING; case $id in "" | *[!0-9a-f]*) exit 1 ;; esac',
  'f=/data/.batch/$id; n=0',
  'while [ ! -f "$f.ok" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done',
  'printf "Content-Type: text/plain\\r\\n\\r\\n"',
  '[ ! -f "$f.ok" ] || { cat "$f"; rm -f "$f" "$f.ok"; }',
  ''
].join('\n')

/** Where the backend puts batches in the workspace container. */
export const BATCH_DIR = '/data/.batch'

/**
 * The run's workspace: a container on the manager's engine, attached to the run's
 * attachable overlay network under WORKSPACE_ALIAS, where every task on any node reaches
 * it. A container rather than a service, because the manager's API can put files into a
 * container of its own engine: that is how a task created before its turn gets its batch.
 */
export function workspaceContainerBody(options: {
  name: string
  image: string
  network: string
  labels: Record<string, string>
}) {
  const script = [
    `mkdir -p /srv/cgi-bin ${BATCH_DIR}`,
    'printf "%s" "$PULL" > /srv/cgi-bin/pull',
    'printf "%s" "$PUSH" > /srv/cgi-bin/push',
    'printf "%s" "$BATCH" > /srv/cgi-bin/batch',
    'chmod 755 /srv/cgi-bin/pull /srv/cgi-bin/push /srv/cgi-bin/batch',
    `exec httpd -f -p ${PORT} -h /srv`
  ].join('\n')
  return {
    name: options.name,
    Image: options.image,
    Labels: options.labels,
    Cmd: ['sh', '-c', script],
    Env: [`PULL=${PULL}`, `PUSH=${PUSH}`, `BATCH=${BATCH}`],
    StopSignal: 'SIGKILL',
    Volumes: { '/data': {} },
    HostConfig: { NetworkMode: options.network },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [WORKSPACE_ALIAS] } } }
  }
}

/**
 * Shell functions a task's wrapper uses: `st_pull STORE DIR MARK` fetches a store into
 * DIR, `st_push STORE DIR MARK` sends the files its command wrote there. A file counts as
 * written when its mtime is newer than MARK's: fetched files are set to the first second
 * of 1970, so a job's writes (which set the time to now) are told from what it fetched
 * without comparing contents, and jobs that run at once send only their own files.
 * Deletions and empty folders are not sent. Any of curl, wget or python3 in the image
 * does the HTTP; an image with none fails with a line saying so. `st_mark` alone stands
 * for `st_pull` while no task has sent anything to that store: the first jobs of a run do
 * not wait for the service (a new overlay endpoint takes the other nodes a few seconds to
 * learn). `st_sent` lists the stores sent to.
 */
export const WORKSPACE_CLIENT = [
  `r=${CTR_ROOT}; u=${WORKSPACE_URL}; st_sent=`,
  'st_none() { echo "ctr-pipeline: the image has none of curl, wget and python3, one of which a swarm task needs to reach the run workspace" >&2; return 1; }',
  'st_get() {',
  '  if command -v curl >/dev/null 2>&1; then curl -fsS "$u/$1"',
  '  elif command -v wget >/dev/null 2>&1; then wget -qO- "$u/$1"',
  `  elif command -v python3 >/dev/null 2>&1; then python3 -c 'import shutil,sys,urllib.request; shutil.copyfileobj(urllib.request.urlopen(sys.argv[1], timeout=600), sys.stdout.buffer)' "$u/$1"`,
  '  else st_none; fi; }',
  'st_put() {',
  '  if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null -H "Content-Type: application/x-tar" --data-binary "@$1" "$u/push?$2"',
  '  elif command -v wget >/dev/null 2>&1; then base64 "$1" > "$1.b64" && wget -qO /dev/null --post-file="$1.b64" "$u/push?$2&b64"',
  `  elif command -v python3 >/dev/null 2>&1; then python3 -c 'import os,sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb"), headers={"Content-Length": str(os.path.getsize(sys.argv[2])), "Content-Type": "application/x-tar"}), timeout=600).read()' "$u/push?$2" "$1"`,
  '  else st_none; fi; }',
  // The service may still be starting when the first task asks.
  'st_pull() { n=0; until st_get "pull?$1" > "$r/.ctr-pull.tar"; do n=$((n+1)); [ $n -lt 5 ] || return 1; sleep 1; done',
  '  mkdir -p "$2" && tar x -C "$2" -f "$r/.ctr-pull.tar" && rm -f "$r/.ctr-pull.tar" && st_mark "$2" "$3"; }',
  'st_mark() { mkdir -p "$1" && find "$1" -exec touch -c -d "1970-01-01 00:00:01" {} + && touch -d "1970-01-01 00:00:02" "$2"; }',
  'st_push() { (cd "$2" && find . -newer "$3" ! -type d > "$r/.ctr-push.list") || return 1',
  '  [ -s "$r/.ctr-push.list" ] || return 0',
  // BusyBox's tar reads no file list (-T): the names go as arguments, one per line.
  '  (cd "$2" && IFS="\n" && set -f && set -- $(cat "$r/.ctr-push.list") && tar c -f "$r/.ctr-push.tar" --no-recursion "$@") && st_send "$r/.ctr-push.tar" "$1" && st_sent="$st_sent $1"; }',
  // A first job never waited for the service (st_mark): its node may not know the
  // service's address yet when the job ends. The service takes the same tar again as once.
  'st_send() { st_n=0; until st_put "$1" "$2"; do st_n=$((st_n+1)); [ $st_n -lt 10 ] || return 1; sleep 1; done; }',
  // CTR_TASK_STORES: a line per store, `STORE EMPTY rw|ro DIR` (EMPTY: 1 while none sent to it).
  'st_each() { while IFS=" " read -r s e a d; do [ -z "$s" ] || "$1" "$s" "$e" "$a" "$d" < /dev/null || return 1; done <<ST',
  '$CTR_TASK_STORES',
  'ST',
  '}',
  'st_in() { if [ "$2" = 1 ]; then st_mark "$4" "$r/.ctr-pulled.$1"; else st_pull "$1" "$4" "$r/.ctr-pulled.$1"; fi; }',
  'st_out() { [ "$3" = ro ] || st_push "$1" "$4" "$r/.ctr-pulled.$1"; }'
].join('\n')

/**
 * The start of a task created before its turn: it asks the workspace container for its
 * batch (CTR_TASK_BATCH, a random id) until the backend has put it there, then runs it.
 * The batch is shell that sets the command (`set --`) and its environment. A task that
 * cannot reach the container for about 30 s fails (125) saying so.
 */
export const BATCH_CLIENT = [
  'if [ -n "$CTR_TASK_BATCH" ]; then',
  '  f=0; until [ -s "$r/.ctr-batch" ]; do',
  '    st_get "batch?$CTR_TASK_BATCH" > "$r/.ctr-batch" && continue',
  '    f=$((f+1)); [ $f -lt 30 ] || break; sleep 1',
  '  done',
  '  [ -s "$r/.ctr-batch" ] || { printf "%s error could not fetch its batch from the run\'s workspace service\\n%s exit 125\\n" "$m" "$m"; printf "%s exit 125\\n" "$m" >&2; exit 125; }',
  '  eval "$(cat "$r/.ctr-batch")"; rm -f "$r/.ctr-batch"',
  'fi'
].join('\n')

/** A command and its environment as the shell a batch task evaluates (see BATCH_CLIENT). */
export function batchScript(command: readonly string[], env: readonly string[]): string {
  const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`
  return [
    `set -- ${command.map(quote).join(' ')}`,
    ...env.map((pair) => `export ${quote(pair)}`),
    ''
  ].join('\n')
}
