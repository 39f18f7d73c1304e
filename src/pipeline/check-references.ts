import { closest } from './closest.js'
import { implicitOutputs } from './implicit-outputs.js'
import {
  analyse,
  evaluate,
  ExpressionError,
  expressionScope,
  parseExpression,
  STATUS_FUNCTIONS
} from './expression.js'
import type { Expr } from '@actions/expressions'
import type { JobSpec, NestedStageType, Pipeline, StageSpec } from './pipeline-types.js'
import { innerStageLists, innerStages, STAGE_TEMPLATE_KEYS } from './nested-stages.js'
import { list, record } from './raw-values.js'
import type { FileProblem } from './file-problems.js'
import {
  conditionSource,
  excerpt,
  parseTemplate,
  templateProblems,
  type VariableSyntax
} from './template.js'
import { describePath, type DocPath, type YamlSource } from './yaml-source.js'
import { variableSyntax } from './dialect/dialect-rules.js'

/** What expressions at one place in the file may read. */
interface Scope {
  job: JobSpec
  roots: ReadonlySet<string>
  /** Stages whose outputs exist when this place is evaluated. */
  stages?: readonly string[]
  /** Every stage this place could name: its list's, and those of the lists around it. */
  known?: readonly string[]
  /** `if:` conditions may call success(), failure(), always(), cancelled(). */
  condition?: boolean
  /** How `${VAR}` is read here (see VariableSyntax). */
  variables?: VariableSyntax
  /** Why `stages` cannot be read here, when it cannot. */
  noStages?: string
}

const JOB_ROOTS = new Set(['params', 'matrix', 'run_id', 'job', 'needs'])
const STAGE_ROOTS = new Set([...JOB_ROOTS, 'stages'])

/** What the stages inside a stage that holds stages read besides their job's values. */
const INNER_ROOTS: Record<NestedStageType, string[]> = {
  foreach: ['item', 'loop'],
  until: ['item', 'loop'],
  parallel: ['branch'],
  case: ['case']
}

/**
 * Checks every expression in the file: it parses, and each name it reads exists and is
 * available where it is used (a param that is declared, a matrix key of this job, a job
 * upstream of this one and an output it declares, a stage that ran before this one).
 */
export function checkReferences(
  pipeline: Pipeline,
  raw: unknown,
  source: YamlSource
): FileProblem[] {
  const problems: FileProblem[] = []
  const rawJobs = record(record(raw).jobs)
  const containerVariables = variableSyntax(pipeline.dialect, 'container')
  // The file's env reaches every job: only what all of them have may be read there.
  const first = pipeline.jobs[0]
  if (first)
    problems.push(
      ...checkValue(
        record(raw).env,
        ['env'],
        {
          job: first,
          roots: new Set(['params', 'run_id']),
          variables: containerVariables,
          noStages: 'the file env reaches every stage of every job'
        },
        pipeline,
        source
      )
    )
  for (const job of pipeline.jobs) {
    const at: DocPath = ['jobs', job.id]
    const rawJob = record(rawJobs[job.id])
    const check = (value: unknown, path: DocPath, scope: Omit<Scope, 'job'>) =>
      problems.push(...checkValue(value, path, { ...scope, job }, pipeline, source))
    const container = 'the container is created before any stage runs'
    check(rawJob.env, [...at, 'env'], {
      roots: JOB_ROOTS,
      variables: containerVariables,
      noStages: "a job's env reaches every one of its stages"
    })
    check(record(rawJob['runs-on']).with, [...at, 'runs-on', 'with'], {
      roots: JOB_ROOTS,
      variables: containerVariables,
      noStages: container
    })
    problems.push(
      ...variablesInName(record(record(rawJob['runs-on']).with), [...at, 'runs-on', 'with'], source)
    )
    // A matrix that reads needs is expanded when they are done (PlannedJob.after).
    check(record(rawJob.strategy).matrix, [...at, 'strategy', 'matrix'], {
      roots: new Set(['params', 'needs']),
      noStages: 'the matrix is expanded before the job starts'
    })
    // A ddeutil workflow's if: is a template read as Python once rendered.
    const condition =
      pipeline.dialect === 'ddeutil' ? { variables: containerVariables } : { condition: true }
    check(rawJob.if, [...at, 'if'], { roots: JOB_ROOTS, ...condition, noStages: container })
    const ids = job.stages?.map((s) => s.id) ?? []
    const checkStages = (
      stages: readonly StageSpec[],
      raws: readonly unknown[],
      listAt: DocPath,
      frame: { roots: ReadonlySet<string>; before: readonly string[]; known: readonly string[] }
    ) =>
      raws.forEach((rawStage, i) => {
        const stageAt = [...listAt, i]
        const stage = record(rawStage)
        const ran = stages.slice(0, i).map((s) => s.id)
        const scope = {
          roots: frame.roots,
          stages: [...frame.before, ...ran],
          known: [...frame.known, ...stages.map((s) => s.id)]
        }
        const script = { ...scope, variables: variableSyntax(pipeline.dialect, 'script') }
        for (const key of STAGE_TEMPLATE_KEYS) check(stage[key], [...stageAt, key], script)
        check(stage.inputs, [...stageAt, 'inputs'], scope)
        check(stage.env, [...stageAt, 'env'], { ...scope, variables: containerVariables })
        check(stage.if, [...stageAt, 'if'], { ...scope, ...condition })
        const spec = stages[i]
        const nested = spec?.nested
        if (!nested) return
        const inner = new Set([...frame.roots, ...INNER_ROOTS[nested.type]])
        if (nested.type === 'until')
          check(stage.until, [...stageAt, 'until'], { ...scope, roots: inner, ...condition })
        list(stage.match).forEach((m, n) =>
          check(record(m).case, [...stageAt, 'match', n, 'case'], script)
        )
        const lists = innerStageLists(rawStage)
        innerStages(spec).forEach((innerSpecs, n) => {
          if (!lists[n]) return
          checkStages(innerSpecs, lists[n][1], [...stageAt, ...lists[n][0]], {
            roots: inner,
            before: scope.stages,
            known: scope.known
          })
        })
      })
    checkStages(job.stages ?? [], list(rawJob.stages), [...at, 'stages'], {
      roots: STAGE_ROOTS,
      before: [],
      known: []
    })
    check(rawJob.outputs, [...at, 'outputs'], { roots: STAGE_ROOTS, stages: ids, known: ids })
  }
  return problems
}

/**
 * A container's name is shown where secrets are not masked (`docker ps`, the engine's
 * events, other runs' error messages), and cleaned up first (so the masker no longer finds
 * the value in it): `${VAR}`, which may hold one, is refused there.
 */
function variablesInName(withKeys: Record<string, unknown>, at: DocPath, source: YamlSource) {
  const name = withKeys.container_name
  if (typeof name !== 'string' || !name.includes('${')) return []
  const path = [...at, 'container_name']
  return [
    {
      ...source.textLocator(path)('${'),
      message:
        `${describePath(path)}: \${VAR} cannot be used in a container name: names are shown ` +
        `unmasked (docker ps, the engine's events); use {{ params.* }} or {{ matrix.* }}`
    }
  ]
}

function checkValue(
  value: unknown,
  path: DocPath,
  scope: Scope,
  pipeline: Pipeline,
  source: YamlSource
): FileProblem[] {
  if (Array.isArray(value))
    return value.flatMap((item, i) => checkValue(item, [...path, i], scope, pipeline, source))
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) =>
      checkValue(v, [...path, k], scope, pipeline, source)
    )
  if (typeof value !== 'string') return []
  const where = describePath(path)
  if (scope.condition) {
    try {
      const expr = parseExpression(conditionSource(value))
      return expressionProblems(expr, scope, pipeline).map((reason) => ({
        ...source.valuePosition(path),
        message: `${where}: '${excerpt(value.trim())}': ${reason}`
      }))
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error
      return [{ ...source.valuePosition(path), message: `${where}: ${error.message}` }]
    }
  }
  const options = { variables: scope.variables }
  const locate = source.textLocator(path)
  const broken = templateProblems(value, options)
  if (broken.length > 0)
    return broken.map((problem) => ({
      ...locate(problem.written),
      message: `${where}: ${problem.message}`
    }))
  return parseTemplate(value, options).flatMap((segment) => {
    if (segment.kind !== 'expression') return []
    const at = locate(segment.text)
    return expressionProblems(segment.expr, scope, pipeline).map((reason) => ({
      ...at,
      message: `${where}: '${excerpt(segment.text)}': ${reason}`
    }))
  })
}

function expressionProblems(expr: Expr, scope: Scope, pipeline: Pipeline): string[] {
  const { references, functions } = analyse(expr)
  return [
    ...references.map((r) => referenceProblem(r.path, scope, pipeline)),
    ...functions.map((f) =>
      (STATUS_FUNCTIONS as readonly string[]).includes(f) && !scope.condition
        ? `${f}() can only be used in 'if:'`
        : undefined
    ),
    constantProblem(expr, references.length, functions)
  ].filter((r) => r !== undefined)
}

/**
 * Why an expression that reads nothing fails (`fromJSON('x')`): it would fail the same way
 * at run time, where it has no position, so it is evaluated here once.
 */
function constantProblem(expr: Expr, references: number, functions: string[]): string | undefined {
  if (references > 0 || functions.some((f) => (STATUS_FUNCTIONS as readonly string[]).includes(f)))
    return undefined
  try {
    evaluate(expr, expressionScope({}))
    return undefined
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error
    return error.message
  }
}

/** Why a context path cannot be read at this place, or undefined when it can. */
function referenceProblem(path: string[], scope: Scope, pipeline: Pipeline): string | undefined {
  const [root, name, field, key] = path
  const { job } = scope
  if (!scope.roots.has(root)) {
    if (root === 'stages') return `stages cannot be read here: ${scope.noStages ?? ''}`
    return `'${root}' cannot be read here (available: ${[...scope.roots].join(', ')})`
  }
  switch (root) {
    case 'run_id':
      return name === undefined ? undefined : 'run_id is text and has no fields'
    case 'params':
      return name === undefined || Object.hasOwn(pipeline.params, name)
        ? undefined
        : unknownName(`no param '${name}' is declared`, name, Object.keys(pipeline.params))
    case 'job':
      return name === undefined || name === 'id' || name === 'instance'
        ? undefined
        : `job has 'id' and 'instance', not '${name}'`
    case 'matrix': {
      const matrix = job.strategy?.matrix
      if (!matrix) return `job '${job.id}' has no strategy.matrix`
      // Rows that an expression gives may hold any key.
      if (matrix.whole !== undefined || typeof matrix.include === 'string') return undefined
      const keys = [
        ...Object.keys(matrix.axes),
        ...matrix.include.flatMap((row) => Object.keys(row))
      ]
      return name === undefined || keys.includes(name)
        ? undefined
        : unknownName(`the matrix of job '${job.id}' has no key '${name}'`, name, keys)
    }
    case 'needs': {
      if (name === undefined) return undefined
      const needed = pipeline.jobs.find((j) => j.id === name)
      if (!needed)
        return unknownName(
          `no job '${name}'`,
          name,
          pipeline.jobs.map((j) => j.id)
        )
      if (!upstreamOf(job, pipeline).has(name))
        return `job '${name}' is not upstream of '${job.id}': add it to needs`
      if (field === undefined || field === 'result' || field === 'instances') return undefined
      if (field !== 'outputs')
        return `needs.${name} has result, outputs and instances, not '${field}'`
      const declared = [...Object.keys(needed.outputs), ...implicitOutputs(needed)]
      if (key === undefined || declared.includes(key)) return undefined
      return unknownName(
        `job '${name}' declares no output '${key}'`,
        key,
        declared,
        declared.length ? undefined : `(it has no outputs:)`
      )
    }
    case 'stages': {
      if (name === undefined) return undefined
      const all = scope.known ?? []
      if (!all.includes(name))
        return unknownName(`job '${job.id}' has no stage '${name}'`, name, all)
      if (!scope.stages?.includes(name))
        return `stage '${name}' has not run yet here (a stage reads the stages before it)`
      return field === undefined || field === 'outputs' || field === 'result'
        ? undefined
        : `stages.${name} has outputs and result, not '${field}'`
    }
    default:
      return undefined
  }
}

function unknownName(
  message: string,
  name: string,
  known: readonly string[],
  fallback?: string
): string {
  const hint = closest(name, known)
  if (hint) return `${message} (did you mean '${hint}'?)`
  return `${message} ${fallback ?? (known.length ? `(known: ${known.join(', ')})` : '')}`.trim()
}

/** Every job this one waits for, directly or through the jobs it needs. */
function upstreamOf(job: JobSpec, pipeline: Pipeline): Set<string> {
  const byId = new Map(pipeline.jobs.map((j) => [j.id, j]))
  const seen = new Set<string>()
  const stack = [...job.needs]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (seen.has(id)) continue
    seen.add(id)
    stack.push(...(byId.get(id)?.needs ?? []))
  }
  return seen
}
