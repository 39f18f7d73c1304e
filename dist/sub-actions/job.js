// The job sub-action (actions/job/action.yml): written by scripts/sub-action-entries.mjs.
process.env.CTR_PIPELINE_ACTION = 'job'
const { run } = await import('../action/index.js')
await run()
