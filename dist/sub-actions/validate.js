// The validate sub-action (actions/validate/action.yml): written by scripts/sub-action-entries.mjs.
process.env.CTR_PIPELINE_ACTION = 'validate'
const { run } = await import('../action/index.js')
await run()
