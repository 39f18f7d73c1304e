/**
 * Untrusted mode's threat model, as data: every effect a run has on the host, the engine
 * and the runner, and what untrusted mode does with it. The attacker controls the
 * pipeline file, the checkout, every image it builds or names, and everything its
 * containers print. `docs/security.md` shows this table (generated from it, checked for
 * drift), the checks that enforce it name their row by `id`, and the tests of untrusted
 * mode are listed by it: a row without a test fails the suite.
 */

/** What untrusted mode does with an effect. */
export type Treatment = 'refused' | 'confined' | 'allowed'

/** One effect a run has outside its containers. */
export interface HostEffect {
  /** Stable name: the checks and the tests refer to the row by it. */
  id: string
  /** The effect, as a user would name it. */
  effect: string
  /** The keys, flags or inputs that cause it. */
  via: string
  untrusted: Treatment
  /** What untrusted mode does, and what to write instead where it refuses. */
  rule: string
  /** Why that is enough. */
  why: string
  /** Where the tests of this row run: pure logic, or on the engine. */
  tested: 'unit' | 'engine'
}

/** Every host effect of a run; the order of the docs' table. */
export const HOST_EFFECTS = [
  {
    id: 'bind_mount',
    effect: 'Host folders mounted into containers',
    via: "`volumes` (bind `source`), services' `volumes`",
    untrusted: 'confined',
    rule: 'only inside the workspace, after every symlink is resolved with `realpath` when the container is created; the resolved path is what the engine gets',
    why: "the checkout is the fork's own text; everything else on the host is not",
    tested: 'engine'
  },
  {
    id: 'git_metadata',
    effect:
      "The checkout's `.git` (the token `actions/checkout` persists, hooks, `core.fsmonitor`)",
    via: 'a bind of a folder that holds `.git`',
    untrusted: 'confined',
    rule: 'hidden: an empty read-only mount covers `.git` in the container; a bind of `.git` itself, or of a `.git` file (a worktree), is refused',
    why: 'a job that reads the token pushes as the workflow; one that writes hooks runs commands in a later, trusted step',
    tested: 'engine'
  },
  {
    id: 'artifact_files',
    effect: 'Artifact files written on the host',
    via: "`artifacts`, `--artifacts-dir`, the action's `artifacts-dir`",
    untrusted: 'confined',
    rule: "the folder is resolved before the run: a symlink inside the workspace on the way to it is refused (exit 2, naming the flag or input); each instance's folder is made fresh and checked again, link by link, before files are written",
    why: "a committed `ctr-artifacts/a -> ~/.ssh` would otherwise put the fork's files anywhere the runner's user can write",
    tested: 'engine'
  },
  {
    id: 'output_files',
    effect: 'Files the CLI writes: the result document, the HTML report, `init`',
    via: '`--result`, `--report`, `init --force`',
    untrusted: 'confined',
    rule: 'written to a temporary file in the same folder and renamed over the name, so a symlink there is replaced, never followed; untrusted, a symlink inside the workspace on the way to the folder is refused (exit 2, naming the flag)',
    why: 'a committed `result.json -> ~/.bashrc` would otherwise be overwritten with run output',
    tested: 'unit'
  },
  {
    id: 'image_build',
    effect: 'Images built and tagged on the engine',
    via: '`build`, and `image` beside it (the tag)',
    untrusted: 'refused',
    rule: 'refused at `build:` (exit 2): build the image in a trusted workflow (on `push`) and name it in `image:`',
    why: "the engine's build has no process limit and BuildKit ignores memory and CPU limits (moby/buildkit#593), and a tag such as `python:3.11-slim` would stay on a persistent runner for later, trusted runs",
    tested: 'unit'
  },
  {
    id: 'image_push',
    effect: 'Images pushed to a registry',
    via: '`build.push`',
    untrusted: 'refused',
    rule: 'refused at `push:` (exit 2)',
    why: "a push would write over the organisation's images",
    tested: 'unit'
  },
  {
    id: 'image_pull',
    effect: 'Images pulled onto the engine, by the names the file gives',
    via: "`image`, services' `image`, `pull`",
    untrusted: 'allowed',
    rule: "allowed, anonymously; a pulled name stays on the engine as `docker pull` leaves it, and `pull: always` moves a local tag to the registry's image of that name",
    why: "what a job runs is the attacker's anyway; only a registry's content, never the fork's own build, can end up under a name (use names in a namespace you own for local images)",
    tested: 'engine'
  },
  {
    id: 'registry_credentials',
    effect: "The runner's registry logins (the Docker config file, credential helpers)",
    via: 'pulls and pushes without `auth:`',
    untrusted: 'refused',
    rule: 'never read: pulls are anonymous; pull private images in a trusted step before the run (`docker pull`) and keep `pull: missing`',
    why: "the fork would pull the organisation's private images, or push over them, with the runner's login",
    tested: 'engine'
  },
  {
    id: 'registry_auth',
    effect: 'Registry credentials from the file',
    via: '`auth:`',
    untrusted: 'refused',
    rule: 'refused at `auth:` (exit 2)',
    why: "the engine sends them from the host's network to any registry the file names, whatever the job's `network_mode`",
    tested: 'unit'
  },
  {
    id: 'environment_variable',
    effect: "Variables of the run's process read by `${VAR}`",
    via: "`${VAR}` in `runs-on.with`, `services`, the file's, a job's and a stage's `env`, and a ddeutil workflow's scripts",
    untrusted: 'confined',
    rule: "only the names the workflow allows (`--allow-var NAME`, the action's `untrusted-variables` input; none by default), an error at the line of any other (exit 2)",
    why: "the process holds `ACTIONS_RUNTIME_TOKEN`, `ACTIONS_ID_TOKEN_REQUEST_*` and whatever the step's `env:` passes; a value in an image name or `auth:` leaves the machine before any mask applies",
    tested: 'unit'
  },
  {
    id: 'engine_objects',
    effect: 'Containers, volumes and networks created on the engine',
    via: 'every job and service; `runs-on.with.remove: false`',
    untrusted: 'confined',
    rule: "named by the run, labelled `ctr-pipeline.managed` and `ctr-pipeline.run-id`, removed on every path; only the run's own network (or none) and volumes; top-level volumes that are `external`, `name`d, or have a `driver`, and `remove: false` (which keeps a job's container and the run's volumes), are refused",
    why: "another run's or the host's objects stay out of reach",
    tested: 'engine'
  },
  {
    id: 'container_privileges',
    effect: 'Privileges of the container on the kernel',
    via: '`privileged`, `cap_add`, `resources.gpus`, `ulimits`, security options',
    untrusted: 'refused',
    rule: '`privileged`, `cap_add`, `gpus` and every `ulimits` key but `nofile` and `nproc` are refused; `no-new-privileges` is always set',
    why: "each widens what the job may do to the host's kernel (`memlock`, `rtprio` and `core` are raised by engines that run as root)",
    tested: 'unit'
  },
  {
    id: 'host_resources',
    effect: "The host's CPU, memory and processes",
    via: '`resources`',
    untrusted: 'confined',
    rule: "capped: memory and CPUs at most the host's (half of each by default), 1 to 4096 processes (1024 by default), no unlimited swap",
    why: 'a fork bomb or a runaway job stops at its container',
    tested: 'engine'
  },
  {
    id: 'host_network',
    effect: "The host's network and ports",
    via: "`network.network_mode`, `network.ports`, services' `ports`",
    untrusted: 'confined',
    rule: "the run's own network or `none`; ports published on `127.0.0.1` only",
    why: "the host's interfaces and other containers' namespaces stay out of reach",
    tested: 'engine'
  },
  {
    id: 'labels',
    effect: 'Labels on engine objects',
    via: '`labels`',
    untrusted: 'allowed',
    rule: 'allowed, but never `ctr-pipeline.*`; in every mode a label whose value holds a secret (`${VAR}` of a masked variable) is refused when the container is made',
    why: 'labels are shown by every engine event and `docker inspect`, to anyone who can list containers: they are not a place for secrets',
    tested: 'engine'
  },
  {
    id: 'runner_log',
    effect: "Lines printed to the runner's log",
    via: 'container output, stage names, matrix values, messages',
    untrusted: 'confined',
    rule: 'secrets are masked first; then a line (split where the runner splits: `\\n`, `\\r`) that would start with `::`, and every `##[`, is neutralised with a zero-width space',
    why: 'the runner reads such lines as workflow commands (`::add-mask::`, `::set-output::`, `::stop-commands::`)',
    tested: 'unit'
  },
  {
    id: 'workflow_commands',
    effect: 'Workflow commands issued by container output',
    via: '`allow_workflow_commands` in the file',
    untrusted: 'refused',
    rule: "off unless the workflow's `allow-workflow-commands` input turns them on; the file's own key is ignored, with a warning at its line",
    why: 'a fork that could turn them on for itself would set outputs, masks and environment for later steps',
    tested: 'unit'
  },
  {
    id: 'terminal_escapes',
    effect: 'Terminal escape sequences in container output',
    via: 'anything a container prints',
    untrusted: 'refused',
    rule: 'stripped, every one; trusted runs keep colour (SGR) sequences only',
    why: 'erase-line, OSC 52 (the clipboard) and OSC 8 (links) would rewrite what the user sees or reads',
    tested: 'unit'
  },
  {
    id: 'job_summary',
    effect: 'The job summary and the pull request comment',
    via: 'stage names, matrix values, outputs, messages',
    untrusted: 'confined',
    rule: 'table cells escape Markdown and HTML; Mermaid labels and task names take no newline, backtick or quote',
    why: "a value could close the diagram's fence, or add images and links that load from elsewhere",
    tested: 'unit'
  },
  {
    id: 'runner_files',
    effect:
      "The runner's own files: step outputs, the job summary, the result, report and logs, uploaded artifacts",
    via: 'job outputs, `summary`, `report`, `upload-artifacts`',
    untrusted: 'confined',
    rule: "written by the action to `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY` and fresh files under `$RUNNER_TEMP`, never the workspace; outputs go through `@actions/core`'s random delimiters and past their size limit become a pointer; secrets are masked; uploads are the job's declared artifacts and the report",
    why: "a value could otherwise end the output file's delimiter and set outputs of its own, or fill the runner's disk",
    tested: 'unit'
  },
  {
    id: 'secret_exposure',
    effect: 'Secret values on the host',
    via: "`${VAR}`, `--secret-file`, a stage's `env`",
    untrusted: 'confined',
    rule: "masked in every line, error, summary and document; a stage's `env` reaches its process through the exec's environment, never a command line (which any user of the host can read in `ps`)",
    why: 'the workflow may pass secrets to trusted runs of the same file',
    tested: 'engine'
  },
  {
    id: 'image_describe',
    effect: "Commands of an image's `process.NAME` labels, run by `validate`",
    via: '`type: process` stages, `processes`',
    untrusted: 'confined',
    rule: "in a container with no network, no capabilities, 256 MiB, 1 CPU and 64 processes, killed after 30 s or past 1 MiB of output, labelled and removed; what it said is cached by image id in the user's cache folder, a killed call is not",
    why: "an image is the attacker's: its describe command may hang or fork forever",
    tested: 'engine'
  },
  {
    id: 'trust_decision',
    effect: 'Which events the action trusts under `untrusted: auto`',
    via: "the workflow's event",
    untrusted: 'confined',
    rule: '`push`, `schedule`, `workflow_dispatch`, `release`, `merge_group`, and `pull_request` from the same repository are trusted; every other event (`pull_request_target`, `issue_comment`, `workflow_run`...) and a payload the action cannot read are untrusted',
    why: 'those events run text that someone without write access may have written',
    tested: 'unit'
  }
] as const satisfies readonly HostEffect[]

/** The id of a row of the threat model. */
export type HostEffectId = (typeof HOST_EFFECTS)[number]['id']

/** A row by its id. */
export function hostEffect(id: HostEffectId): HostEffect {
  return HOST_EFFECTS.find((row) => row.id === id)!
}

/** The threat model as the Markdown table of `docs/security.md`. */
export function threatModelTable(): string {
  const row = (cells: string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`
  return [
    row(['Effect', 'Caused by', 'Untrusted', 'What untrusted mode does', 'Why']),
    row(['---', '---', '---', '---', '---']),
    ...HOST_EFFECTS.map((e) => row([e.effect, e.via, `**${e.untrusted}**`, e.rule, e.why]))
  ].join('\n')
}

const START = '<!-- threat-model:start -->'
const END = '<!-- threat-model:end -->'

/** The generated block of `docs/security.md`: the table, which Prettier leaves as it is. */
export function threatModelBlock(): string {
  return `<!-- prettier-ignore-start -->\n${threatModelTable()}\n<!-- prettier-ignore-end -->`
}

/** A page with `block` between its threat-model markers; throws when they are missing. */
export function withThreatModel(page: string, block: string): string {
  const start = page.indexOf(START)
  const end = page.indexOf(END)
  if (start < 0 || end < start) throw new Error(`no ${START} ... ${END} in the page`)
  return `${page.slice(0, start + START.length)}\n${block}\n${page.slice(end)}`
}
