import { BackendError } from '../../src/backend/backend.js'
import { ConsoleReporter } from '../../src/report/console-reporter.js'
import { letGo } from '../../src/scheduler/run-reporter.js'

describe('letGo', () => {
  it.each([
    [true, ['debug: removing a container failed, and is let go: no such container: c1']],
    [false, []]
  ])('leaves a debug trace of the error it swallows (debug shown: %s)', async (debug, lines) => {
    const written: string[] = []
    const reporter = new ConsoleReporter({ write: (line) => written.push(line), debug })
    const result = await Promise.reject(new BackendError('no such container: c1', 404)).catch(
      letGo(reporter, 'removing a container')
    )
    expect(result).toBeUndefined()
    expect(written).toEqual(lines)
  })
})
