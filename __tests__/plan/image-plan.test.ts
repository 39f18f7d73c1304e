import { planImage } from '../../src/plan/image-plan.js'
import { parsePipeline } from '../../src/pipeline/load-pipeline.js'

/** The image source of job `a` whose `runs-on.with` is `withText`, rendered with `v: 2`. */
function imageOf(withText: string) {
  const pipeline = parsePipeline(
    `params: {v: {type: int, default: 2}}\njobs:\n  a:\n    runs-on: {type: container, with: ${withText}}\n    stages: [{name: s, type: sh, run: 'true'}]\n`,
    'p.yml',
    '/repo'
  )
  const render = (text: string) => text.replaceAll('{{ params.v }}', '2')
  return planImage(
    pipeline.jobs[0].container,
    { runId: 'r1', jobId: 'a', pipelineDir: '/repo' },
    render
  )
}

describe('planImage', () => {
  it.each<[string, string, Record<string, unknown>]>([
    ['a pull', '{image: alpine}', { kind: 'pull', ref: 'alpine', policy: 'missing' }],
    [
      'a build, tagged for the run only',
      '{build: app}',
      { kind: 'build', context: '/repo/app', dockerfile: 'Dockerfile', name: undefined }
    ],
    [
      'a build with image: also tagged with that name, rendered (seed 002: docker build -t datamax .)',
      "{image: 'datamax:{{ params.v }}', build: .}",
      { kind: 'build', context: '/repo', dockerfile: 'Dockerfile', name: 'datamax:2' }
    ]
  ])('%s', (_, withText, expected) => {
    const image = imageOf(withText)
    const fields = Object.fromEntries(
      Object.keys(expected).map((key) => [key, (image as unknown as Record<string, unknown>)[key]])
    )
    expect(fields).toEqual(expected)
    if (image.kind === 'build') expect(image.ref).toMatch(/^ctr-pipeline-build\/a:r1-[0-9a-f]{8}$/)
  })
})
