import { lstatSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { linkInWorkspace, writeFileReplacing } from '../scheduler/host-files.js'
import { InputError } from '../pipeline/input-error.js'

/** Where the schema is published, for the editor modeline (README: the schema, and your editor). */
export const SCHEMA_URL =
  'https://raw.githubusercontent.com/OWNER/ctr-pipeline/v1/schema/ctr-pipeline.schema.json'

/** How a workflow names the action (README: `OWNER` is where you forked or installed it from). */
export const ACTION_REF = 'OWNER/ctr-pipeline@v1'

/** The image `init` writes when none is given: small, with `sh`, on Docker Hub. */
export const DEFAULT_INIT_IMAGE = 'alpine:3.20'

/** The files `init` writes, relative to the folder it runs in, with their text. */
export function initFiles(image: string): Array<{ file: string; text: string }> {
  const pipeline = `# yaml-language-server: $schema=${SCHEMA_URL}
# A starter pipeline: \`ctr-pipeline run\` runs it here, the workflow beside it on GitHub.
name: starter
jobs:
  build:
    runs-on: {type: container, with: {image: ${image}, resources: {memory: 256m}}}
    stages:
      - name: hello
        type: sh
        run: |
          echo "hello from $(uname -m)"
          echo "greeting=hello" >> "$CTR_OUTPUT"
    outputs:
      greeting: '{{ stages.hello.outputs.greeting }}'
  test:
    needs: [build]
    runs-on: {type: container, with: {image: ${image}}}
    stages:
      - {name: check, type: sh, run: 'test "{{ needs.build.outputs.greeting }}" = hello'}
`
  const workflow = `name: ctr-pipeline
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  pipeline:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: ${ACTION_REF}
        with:
          pipeline: ctr-pipeline.yml
`
  return [
    { file: 'ctr-pipeline.yml', text: pipeline },
    { file: '.github/workflows/ctr-pipeline.yml', text: workflow }
  ]
}

/**
 * Writes the starter files into `dir`; a file already there is a usage error naming it
 * (nothing is written then), unless `force`. Resolves to the paths written.
 */
export async function writeInitFiles(
  dir: string,
  options: { image: string; force: boolean }
): Promise<string[]> {
  const files = initFiles(options.image)
  if (!options.force) {
    // lstat: a symlink is there even when what it points at is not.
    const there = files.filter(({ file }) =>
      lstatSync(path.join(dir, file), { throwIfNoEntry: false })
    )
    if (there.length > 0)
      throw new InputError(
        `init: ${there.map((f) => f.file).join(' and ')} already there: nothing written (--force replaces)`
      )
  }
  // A folder on the way that is a symlink would take the files elsewhere: a clone's
  // `.github -> ~/.config` is not where a starter workflow goes.
  for (const { file } of files) {
    const link = await linkInWorkspace(path.dirname(path.join(dir, file)), dir)
    if (link) throw new InputError(`init: ${link} is a symbolic link: nothing written`)
  }
  for (const { file, text } of files) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true })
    // Replaced, not written through: a symlink where the file goes is not followed.
    await writeFileReplacing(path.join(dir, file), text)
  }
  return files.map((f) => f.file)
}
