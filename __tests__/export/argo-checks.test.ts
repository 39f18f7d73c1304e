import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import type { IWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Workflow'
import { checkArgoManifest } from '../../src/export/argo/argo-checks.js'

/** The quick start's export (two jobs, an output handed on): each case breaks one thing. */
type Manifest = IWorkflow
const golden = (): Manifest =>
  parse(readFileSync('__tests__/fixtures/export/argo/pipeline.yaml', 'utf8')) as Manifest
const main = (m: Manifest) => m.spec.templates![0].dag!.tasks
const template = (m: Manifest, name: string) => m.spec.templates!.find((t) => t.name === name)!

describe('checkArgoManifest', () => {
  it('passes the export as made', () => {
    expect(checkArgoManifest(golden())).toEqual([])
  })

  it.each<[string, (m: Manifest) => void, string[]]>([
    [
      'a name that is not a DNS-1123 label',
      (m) => {
        m.spec.templates![1].name = 'Prep_0'
        main(m)[0].template = 'Prep_0'
      },
      ["template 'Prep_0' is not a DNS-1123 label"]
    ],
    [
      'a task name that is not a label, which the outputs read no longer name',
      (m) => {
        main(m)[0].name = 'Prep_0'
        main(m)[1].depends = 'Prep_0.Succeeded'
      },
      [
        "dag 'main': task 'Prep_0' is not a DNS-1123 label",
        "dag 'main': task 'report' reads output 'rows' of 'prep', no task",
        "dag 'main': task 'report' reads output 'units' of 'prep', no task"
      ]
    ],
    [
      'an output read without depending on its task',
      (m) => delete main(m)[1].depends,
      ["dag 'main': task 'report' reads 'prep' without depending on it"]
    ],
    [
      'a generateName that is not a label',
      (m) => (m.metadata.generateName = 'Quick_Start-'),
      ["metadata: 'Quick_Start' is not a DNS-1123 label"]
    ],
    [
      'a template defined twice',
      (m) => m.spec.templates!.push({ ...template(m, 'report') }),
      ["template 'report' is defined twice"]
    ],
    [
      'a task running no template',
      (m) => (main(m)[1].template = 'reprot'),
      ["dag 'main': task 'report' runs template 'reprot', which is not defined"]
    ],
    [
      'a dependency on no task',
      (m) => (main(m)[1].depends = 'prep.Succeeded && lint.Succeeded'),
      ["dag 'main': task 'report' depends on 'lint', no task"]
    ],
    [
      'a circle',
      (m) => (main(m)[0].depends = 'report.Succeeded'),
      ["dag 'main': tasks depend on each other in a circle: prep -> report -> prep"]
    ],
    [
      'an output read that the upstream template does not declare',
      (m) => template(m, 'prep').outputs!.parameters!.pop(),
      ["dag 'main': task 'report' reads output 'units' of 'prep', which has none such"]
    ],
    [
      'an input used and not declared',
      (m) => template(m, 'report').inputs!.parameters!.pop(),
      ["template 'report': input 'prep-units' is not declared"]
    ],
    [
      'a volume mount without a volume',
      (m) => template(m, 'prep').volumes!.pop(),
      ["template 'prep': volume mount 'host-1' has no volume"]
    ],
    [
      'an entrypoint that is no template',
      (m) => (m.spec.entrypoint = 'start'),
      ["entrypoint 'start' is no template"]
    ]
  ])('finds %s', (_, breakIt, problems) => {
    const manifest = golden()
    breakIt(manifest)
    expect(checkArgoManifest(manifest)).toEqual(problems)
  })
})
