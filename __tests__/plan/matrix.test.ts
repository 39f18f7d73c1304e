import { expandMatrix, instanceName, MatrixError } from '../../src/plan/matrix.js'

describe('expandMatrix', () => {
  it.each<[string, Parameters<typeof expandMatrix>, Record<string, unknown>[]]>([
    [
      'the cartesian product, first axis slowest',
      [{ os: ['a', 'b'], v: [1, 2] }],
      [
        { os: 'a', v: 1 },
        { os: 'a', v: 2 },
        { os: 'b', v: 1 },
        { os: 'b', v: 2 }
      ]
    ],
    [
      'exclude by every key or by some keys',
      [{ os: ['a', 'b'], v: [1, 2] }, [], [{ os: 'a', v: 2 }, { os: 'b' }]],
      [{ os: 'a', v: 1 }]
    ],
    ['include only', [{}, [{ x: 1 }, { x: 2 }]], [{ x: 1 }, { x: 2 }]],
    [
      'object values',
      [{ cfg: [{ a: 1 }, { a: 2 }] }, [], [{ cfg: { a: 2 } }]],
      [{ cfg: { a: 1 } }]
    ],
    [
      // The example of GitHub's documentation ("Expanding or adding matrix configurations").
      "GitHub's include rules: added to fitting combinations, else a new one",
      [
        { fruit: ['apple', 'pear'], animal: ['cat', 'dog'] },
        [
          { color: 'green' },
          { color: 'pink', animal: 'cat' },
          { fruit: 'apple', shape: 'circle' },
          { fruit: 'banana' },
          { fruit: 'banana', animal: 'cat' }
        ]
      ],
      [
        { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
        { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
        { fruit: 'pear', animal: 'cat', color: 'pink' },
        { fruit: 'pear', animal: 'dog', color: 'green' },
        { fruit: 'banana' },
        { fruit: 'banana', animal: 'cat' }
      ]
    ],
    [
      'include after exclude: an excluded combination is not extended',
      [{ os: ['a', 'b'] }, [{ os: 'b', extra: true }], [{ os: 'b' }]],
      [{ os: 'a' }, { os: 'b', extra: true }]
    ]
  ])('%s', (_what, args, expected) => expect(expandMatrix(...args)).toEqual(expected))

  it.each<[string, Parameters<typeof expandMatrix>, string]>([
    ['more than 256 instances', [{ a: range(16), b: range(17) }], 'makes 272 instances'],
    ['a product too big to expand', [{ a: range(300), b: range(300) }], '90000 combinations'],
    ['every combination excluded', [{ a: [1] }, [], [{ a: 1 }]], 'makes no instances'],
    ['no axes and no include', [{}], 'makes no instances']
  ])('refuses %s', (_what, args, message) => {
    expect(() => expandMatrix(...args)).toThrow(MatrixError)
    expect(() => expandMatrix(...args)).toThrow(message)
  })

  it('allows exactly 256 instances', () => {
    expect(expandMatrix({ a: range(16), b: range(16) })).toHaveLength(256)
  })
})

describe('instanceName', () => {
  it.each([
    [{}, 'report'],
    [{ image: 'python:3.10-slim' }, 'report (python:3.10-slim)'],
    [{ os: 'linux', n: 2, cfg: { a: 1 } }, 'report (linux, 2, {"a":1})']
  ])('%o -> %s', (row, name) => expect(instanceName('report', row)).toBe(name))
})

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}
