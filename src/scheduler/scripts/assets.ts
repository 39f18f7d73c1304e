// Made by scripts/inline-assets.mjs from the programs in this folder: edit those, then run
// `npm run assets`. `npm run lint` fails when this file and they differ.

/** src/scheduler/scripts/process-input.sh, as it runs. */
export const PROCESS_INPUT_SH = 'printf "%s" "$1" | sh -c "$2"\n'
