/**
 * Runs callbacks in the order they are given: at once while nothing asynchronous is
 * pending (lines of output, the common case, cost no promise), after it otherwise.
 */
export function serialQueue() {
  let pending: Promise<void> | undefined
  const run = (fn: () => void | Promise<void>) => {
    if (!pending) {
      const done = fn()
      if (!done) return
      pending = done
    } else {
      pending = pending.then(fn)
    }
    const tail: Promise<void> = pending.then(() => {
      if (pending === tail) pending = undefined
    })
    pending = tail
  }
  run.idle = async () => {
    while (pending) await pending
  }
  /** While callbacks wait, the promise of the last one: a producer can wait for it. */
  run.busy = () => pending
  return run
}
