import { describe, expect, it } from '@jest/globals'
import { instance, run, stage, T0 } from '../helpers/results.js'
import { MAX_BARS, timelineCharts } from '../../src/report/timeline.js'

describe('timelineCharts', () => {
  it('draws every instance that ran, a section per job, and its stages in a second chart', () => {
    const charts = timelineCharts(
      run([
        instance('build', 'build', 'success', 0, 1200, [
          stage('compile: all #1', 'success', 100, 1000)
        ]),
        instance('test (os=a)', 'test', 'failure', 1200, 800, [
          stage('unit', 'failure', 1300, 600),
          stage('after', 'skipped')
        ]),
        instance('test (os=b)', 'test', 'cancelled', 1200, 0),
        instance('deploy', 'deploy', 'skipped', null, 0)
      ])
    )
    const t = (ms: number) => T0 + ms
    expect(charts).toEqual({
      ran: 3,
      jobs: [
        'gantt',
        '    title run r1',
        '    dateFormat x',
        '    axisFormat %M:%S',
        '    section build',
        `    build :done, ${t(0)}, ${t(1200)}`,
        '    section test',
        `    test (os=a) :crit, ${t(1200)}, ${t(2000)}`,
        `    test (os=b) :active, ${t(1200)}, ${t(1201)}`
      ].join('\n'),
      stages: [
        'gantt',
        '    title stages',
        '    dateFormat x',
        '    axisFormat %M:%S',
        '    section build',
        `    compile꞉ all ＃1 :done, ${t(100)}, ${t(1100)}`,
        '    section test (os=a)',
        `    unit :crit, ${t(1300)}, ${t(1900)}`
      ].join('\n')
    })
  })

  it('draws nothing when nothing ran', () => {
    expect(timelineCharts(run([instance('a', 'a', 'skipped', null, 0)]))).toEqual({ ran: 0 })
  })

  it(`counts rather than draws more than ${MAX_BARS} instances`, () => {
    const many = Array.from({ length: MAX_BARS + 1 }, (_, i) =>
      instance(`m (n=${i})`, 'm', 'success', i, 10)
    )
    expect(timelineCharts(run(many))).toEqual({ ran: MAX_BARS + 1 })
  })
})
