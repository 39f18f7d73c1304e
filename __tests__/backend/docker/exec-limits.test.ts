import { withSoftLimits } from '../../../src/backend/docker/exec-limits.js'

describe('withSoftLimits', () => {
  it.each<[string, Array<{ name: string; soft: number }>, string[]]>([
    ['no limits', [], ['cat', '/x']],
    ['only limits in other units', [{ name: 'stack', soft: 8388608 }], ['cat', '/x']],
    [
      'nofile and nproc',
      [
        { name: 'nofile', soft: 1024 },
        { name: 'stack', soft: 1 },
        { name: 'nproc', soft: 512 }
      ],
      [
        'sh',
        '-c',
        'ulimit -S -n 1024 2>/dev/null; ulimit -S -u 512 2>/dev/null; exec "$@"',
        'ctr-limits',
        'cat',
        '/x'
      ]
    ],
    ['unlimited (-1) is left alone', [{ name: 'nofile', soft: -1 }], ['cat', '/x']]
  ])('%s', (_, ulimits, expected) => {
    expect(withSoftLimits(['cat', '/x'], ulimits)).toEqual(expected)
  })
})
