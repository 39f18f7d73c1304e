// Writes dist/sub-actions/<mode>.js, the `main` (and `post`) of each sub-action under
// actions/: a few lines that run the action's one bundle (dist/action/index.js) in that
// mode. Each sub-action is then a node24 action with its own entry, as actions/cache's
// restore and save are, without a 4 MB copy of the bundle per sub-action. Run by
// `npm run build`; CI fails when dist/ differs from what the build writes.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const MODES = ['job', 'validate', 'cleanup', 'export']
const dir = path.join(import.meta.dirname, '..', 'dist', 'sub-actions')
mkdirSync(dir, { recursive: true })
for (const mode of MODES) {
  writeFileSync(
    path.join(dir, `${mode}.js`),
    [
      `// The ${mode} sub-action (actions/${mode}/action.yml): written by scripts/sub-action-entries.mjs.`,
      `process.env.CTR_PIPELINE_ACTION = '${mode}'`,
      "const { run } = await import('../action/index.js')",
      'await run()',
      ''
    ].join('\n')
  )
}
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n')
