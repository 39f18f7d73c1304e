// The export sub-action (actions/export/action.yml): written by scripts/sub-action-entries.mjs.
process.env.CTR_PIPELINE_ACTION = 'export'
const { run } = await import('../action/index.js')
await run()
