import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'

const GOLDEN = path.resolve(import.meta.dirname, '../fixtures/export')

/** Every job script of the golden exports: Argo's script sources, the k8s ConfigMaps' `.sh` files, `sh -c` arguments. */
function jobScripts(): Array<[string, string]> {
  const found: Array<[string, string]> = []
  const walk = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      if (value[0] === 'sh' && value[1] === '-c' && typeof value[2] === 'string')
        found.push([`${where} sh -c`, value[2]])
      value.forEach((item) => walk(item, where))
      return
    }
    if (!value || typeof value !== 'object') return
    const object = value as Record<string, unknown>
    const script = object.script as { source?: unknown } | undefined
    if (typeof script?.source === 'string') found.push([`${where} script`, script.source])
    if (object.kind === 'ConfigMap')
      for (const [key, text] of Object.entries((object.data ?? {}) as Record<string, string>))
        if (key.endsWith('.sh')) found.push([`${where} ${key}`, text])
    Object.values(object).forEach((item) => walk(item, where))
  }
  for (const target of ['argo', 'k8s', 'batch'])
    for (const file of readdirSync(path.join(GOLDEN, target))) {
      const text = readFileSync(path.join(GOLDEN, target, file), 'utf8')
      const documents = file.endsWith('.json')
        ? [JSON.parse(text) as unknown]
        : parseAllDocuments(text).map((d) => d.toJS() as unknown)
      for (const document of documents) walk(document, `${target}/${file}`)
    }
  return found
}

describe('the job scripts the exports write', () => {
  const scripts = jobScripts()

  it('are found in every target that writes them', () => {
    const targets = new Set(scripts.map(([where]) => where.slice(0, where.indexOf('/'))))
    expect([...targets].sort()).toEqual(['argo', 'batch', 'k8s'])
  })

  // POSIX sh, warnings and errors. SC1007 is the scripts' `ctr_v= ctr_k=`: empty
  // assignments, as export/shared/scripts/read-output.sh writes them on purpose.
  it.each(scripts)('%s passes shellcheck', (_where, text) => {
    const check = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', '-e', 'SC1007', '-'], {
      input: text,
      encoding: 'utf8'
    })
    expect(check.error?.message ?? '').toBe('')
    expect(check.stdout).toBe('')
    expect(check.status).toBe(0)
  })
})
