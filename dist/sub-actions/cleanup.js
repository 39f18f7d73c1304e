// The cleanup sub-action (actions/cleanup/action.yml): written by scripts/sub-action-entries.mjs.
process.env.CTR_PIPELINE_ACTION = 'cleanup'
const { run } = await import('../action/index.js')
await run()
