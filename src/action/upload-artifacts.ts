import * as core from '@actions/core'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import type { RunResult } from '../scheduler/run-result.js'

/**
 * Uploads each job instance's copied artifacts as one workflow artifact, named
 * `<prefix><instance folder>` (`build-2`), so they can be downloaded from the run's page
 * or by later jobs with actions/download-artifact. Resolves to the names uploaded.
 */
export async function uploadArtifacts(result: RunResult, prefix: string): Promise<string[]> {
  const client = await artifactClient()
  const uploaded: string[] = []
  for (const job of result.jobs) {
    if (!job.artifacts) continue
    const { dir } = job.artifacts
    const name = `${prefix}${path.basename(dir)}`
    const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name))
    try {
      const { id, size } = await client.uploadArtifact(name, files, dir)
      core.info(`uploaded artifact ${name} (${files.length} files, ${size ?? 0} bytes, id ${id})`)
    } catch (error) {
      throw new Error(`uploading artifact '${name}' failed: ${(error as Error).message}`)
    }
    uploaded.push(name)
  }
  return uploaded
}

/** The name the HTML report is uploaded under, after the artifact-name-prefix. */
const REPORT_ARTIFACT = 'ctr-pipeline-report'

/**
 * Uploads the HTML report as the artifact `<prefix>ctr-pipeline-report`; resolves to its
 * name and, on GitHub, the address that downloads it. A report that cannot be uploaded is
 * a warning, not a failure (resolves to undefined): the run's own outcome stands.
 */
export async function uploadReport(
  file: string,
  prefix: string
): Promise<{ name: string; url?: string } | undefined> {
  const name = `${prefix}${REPORT_ARTIFACT}`
  try {
    const client = await artifactClient()
    const { id, size } = await client.uploadArtifact(name, [file], path.dirname(file))
    core.info(`uploaded the report as artifact ${name} (${size ?? 0} bytes, id ${id})`)
    return { name, url: id === undefined ? undefined : artifactUrl(id) }
  } catch (error) {
    core.warning(`uploading the report as artifact '${name}' failed: ${(error as Error).message}`)
    return undefined
  }
}

/** Where the run's page serves an artifact, from the runner's variables; undefined off GitHub. */
function artifactUrl(id: number): string | undefined {
  const { GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID } = process.env
  if (!GITHUB_SERVER_URL || !GITHUB_REPOSITORY || !GITHUB_RUN_ID) return undefined
  return `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}/artifacts/${id}`
}

async function artifactClient() {
  // Loaded here, not at start-up: it is the largest module in the bundle, and most runs upload nothing.
  const { DefaultArtifactClient } = await import('@actions/artifact')
  return new DefaultArtifactClient()
}
