import { data, Evaluator, Lexer, Parser, type Expr } from '@actions/expressions'
import {
  ContextAccess,
  FunctionCall,
  IndexAccess,
  Literal,
  Binary,
  Grouping,
  Logical,
  Unary
} from '@actions/expressions/ast'
import type { FunctionDefinition } from '@actions/expressions/funcs/info'

/**
 * The names an expression can start from. Which ones a given place in the file may use
 * is decided by the reference checks; the parser accepts them all.
 */
export const CONTEXTS = [
  'params',
  'matrix',
  'run_id',
  'job',
  'needs',
  'stages',
  // Inside a stage that holds stages (NestedStage).
  'item',
  'loop',
  'branch',
  'case'
] as const

/** Functions for `if:` that read how the jobs or stages before went. */
export const STATUS_FUNCTIONS = ['success', 'failure', 'always', 'cancelled'] as const
export type StatusFunction = (typeof STATUS_FUNCTIONS)[number]

/** An expression that cannot be parsed or evaluated; the message quotes it. */
export class ExpressionError extends Error {
  override name = 'ExpressionError'
}

const EXTENSIONS: FunctionDefinition[] = [
  {
    name: 'default',
    description: 'The first argument, or the second when the first is null or empty.',
    minArgs: 2,
    maxArgs: 2,
    call: (value, fallback) =>
      value.kind === data.Kind.Null ||
      (value.kind === data.Kind.String && value.coerceString() === '')
        ? fallback
        : value
  },
  ...STATUS_FUNCTIONS.map((name) => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    // Replaced by the caller's outcome at evaluation time.
    call: (): data.ExpressionData => new data.BooleanData(false)
  }))
]

/**
 * Parses one expression (the text inside `{{ }}`) with GitHub's own expression parser,
 * so the syntax is the one users know from workflows: `a.b`, `a['b-c']`, `==`, `&&`,
 * `!`, literals and functions (`toJSON`, `fromJSON`, `contains`, `format`, `join`,
 * `startsWith`, `endsWith`, plus `default` and the status functions). `written` is how the
 * user wrote it, for the message when it does not parse.
 */
export function parseExpression(source: string, written = `{{ ${source.trim()} }}`): Expr {
  if (source.trim() === '') throw new ExpressionError(`'${written}': the expression is empty`)
  try {
    const { tokens } = new Lexer(source).lex()
    return new Parser(tokens, [...CONTEXTS], EXTENSIONS).parse()
  } catch (error) {
    const reason = (error as Error).message.replace(/\.? Located at position.*$/s, '')
    throw new ExpressionError(`'${written}': ${reason}`)
  }
}

/** What an expression reads: `needs.build.outputs.x` is ['needs', 'build', 'outputs', 'x']. */
export interface Reference {
  /** The literal part of the access chain; stops at the first computed index. */
  path: string[]
}

/** Walks an expression for the context paths it reads and the functions it calls. */
export function analyse(expr: Expr): { references: Reference[]; functions: string[] } {
  const references: Reference[] = []
  const functions: string[] = []
  const visit = (node: Expr): void => {
    if (node instanceof ContextAccess || node instanceof IndexAccess) {
      const path = accessPath(node)
      if (path) references.push({ path })
      if (node instanceof IndexAccess) {
        visit(node.index)
        if (!path) visit(node.expr)
      }
    } else if (node instanceof FunctionCall) {
      functions.push(node.functionName.lexeme.toLowerCase())
      node.args.forEach(visit)
    } else if (node instanceof Binary) {
      visit(node.left)
      visit(node.right)
    } else if (node instanceof Logical) {
      node.args.forEach(visit)
    } else if (node instanceof Unary) {
      visit(node.expr)
    } else if (node instanceof Grouping) {
      visit(node.group)
    } else if (!(node instanceof Literal)) {
      // `*` filters and any node type added later: nothing to check statically.
    }
  }
  visit(expr)
  return { references, functions }
}

function accessPath(node: Expr): string[] | undefined {
  if (node instanceof ContextAccess) return [node.name.lexeme]
  if (node instanceof IndexAccess) {
    const base = accessPath(node.expr)
    if (!base) return undefined
    const index = node.index
    if (index instanceof Literal && index.literal.kind === data.Kind.String)
      return [...base, index.literal.coerceString()]
    // A computed index: what lies beyond it is only known at run time.
    return base
  }
  return undefined
}

/** Values for the contexts, converted once and shared by every expression of a scope. */
export type ExpressionScope = data.Dictionary

/** Builds the scope expressions read from: plain JSON-like values keyed by context name. */
export function expressionScope(values: Record<string, unknown>): ExpressionScope {
  return JSON.parse(JSON.stringify(values), scopeReviver) as data.Dictionary
}

/**
 * `data.reviver`, with dictionaries whose key index has no prototype: the library's plain
 * `{}` index finds `constructor`, `toString` and `__proto__` on Object.prototype, so an
 * output or a param of that name would be dropped or read as a function.
 */
function scopeReviver(key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return data.reviver(key, value) as unknown
  const dictionary = new data.Dictionary()
  ;(dictionary as unknown as { indexMap: Record<string, number> }).indexMap = Object.create(
    null
  ) as Record<string, number>
  for (const name of Object.keys(value))
    dictionary.add(name, (value as Record<string, data.ExpressionData>)[name])
  return dictionary
}

/**
 * How the jobs a job needs (or the stages before a stage) went, which is what the status
 * functions return: `success` when all succeeded, `failure` when one (or one of their
 * ancestors) failed, `cancelled` when the run is being cancelled.
 */
export interface Outcome {
  success: boolean
  failure: boolean
  cancelled: boolean
}

/** Evaluates a parsed expression to a plain value (string, number, boolean, null, list, map). */
export function evaluate(expr: Expr, scope: ExpressionScope, outcome?: Outcome): unknown {
  const functions = new Map(EXTENSIONS.map((f) => [f.name, f]))
  if (outcome) {
    const flags: Record<StatusFunction, boolean> = {
      success: outcome.success && !outcome.cancelled,
      failure: outcome.failure,
      always: true,
      cancelled: outcome.cancelled
    }
    for (const name of STATUS_FUNCTIONS)
      functions.set(name, {
        name,
        minArgs: 0,
        maxArgs: 0,
        call: () => new data.BooleanData(flags[name])
      })
  }
  try {
    const result = new Evaluator(expr, scope, functions).evaluate()
    return JSON.parse(JSON.stringify(result, data.replacer)) as unknown
  } catch (error) {
    throw new ExpressionError((error as Error).message)
  }
}

/** GitHub's truthiness: false, 0, '', null are false; everything else is true. */
export function truthy(value: unknown): boolean {
  return !(value === false || value === 0 || value === '' || value === null || value === undefined)
}
