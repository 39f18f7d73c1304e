import {
  parseDescription,
  processesOf,
  processInput,
  processOutputs,
  type ProcessDescription
} from '../../src/plan/processes.js'

const add: ProcessDescription = {
  description: 'x + y',
  inputs: { x: 1.0, y: 1.0, label: 'sum', flags: [1] },
  outputs: { z: 1.0, note: 'text' }
}
const render = (text: string) => text.replace('{{ stages.a.outputs.z }}', '17.7')

describe('processesOf', () => {
  it('reads process.NAME labels only, without empty commands', () => {
    expect(
      processesOf({
        'process.python_add': 'python3 add.py',
        'process.empty': ' ',
        maintainer: 'me',
        'processes.x': 'no'
      })
    ).toEqual({ python_add: 'python3 add.py' })
  })
})

describe('parseDescription', () => {
  it('reads the description, inputs and outputs', () => {
    expect(
      parseDescription('{"description": "d", "inputs": {"a": 1}, "outputs": {"b": "x"}}')
    ).toEqual({ description: 'd', inputs: { a: 1 }, outputs: { b: 'x' } })
  })
  it.each([
    ['usage: add X Y', "its description is not JSON: 'usage: add X Y'"],
    ['', 'its description is not JSON: nothing came back'],
    ['[1]', "its description is not a JSON object: '[1]'"],
    ['{"inputs": {}}', `its description has no inputs and outputs objects: '{"inputs": {}}'`]
  ])('refuses %j', (stdout, message) => {
    expect(() => parseDescription(stdout)).toThrow(message)
  })
})

describe('processInput', () => {
  it('renders templates to the types the description has: numbers stay numbers', () => {
    expect(
      processInput(
        {
          x: '{{ stages.a.outputs.z }}',
          y: 2.5,
          label: '{{ stages.a.outputs.z }}',
          flags: '[1, 2]'
        },
        add,
        render
      )
    ).toEqual({ x: 17.7, y: 2.5, label: '17.7', flags: [1, 2] })
  })
  it.each<[Record<string, unknown>, string]>([
    [
      { x: 1, y: 1, label: 'a', flags: [], w: 1 },
      "input 'w' is not one of the process's inputs (x, y, label, flags)"
    ],
    [{ x: 1, label: 'a' }, "inputs 'y', 'flags' not given"],
    [
      { x: 'many', y: 1, label: 'a', flags: [] },
      `input 'x' is a string ("many"); the process takes a number`
    ],
    [
      { x: 1, y: true, label: 'a', flags: [] },
      "input 'y' is a boolean (true); the process takes a number"
    ]
  ])('refuses %j', (inputs, message) => {
    expect(() => processInput(inputs, add, render)).toThrow(message)
  })
})

describe('processOutputs', () => {
  it('gives strings as they are and other values as JSON', () => {
    expect(processOutputs('{"z": 17.7, "note": "ok", "extra": 1}\n', add)).toEqual({
      z: '17.7',
      note: 'ok'
    })
  })
  it.each([
    [
      'Traceback (most recent call last):',
      "its output is not JSON: 'Traceback (most recent call last):'"
    ],
    ['{"note": "ok"}', `its output has no 'z': '{"note": "ok"}'`],
    [
      '{"z": "17.7", "note": "ok"}',
      `its output 'z' is a string ("17.7"), not a number: '{"z": "17.7", "note": "ok"}'`
    ]
  ])('refuses %j, quoting the start of it', (stdout, message) => {
    expect(() => processOutputs(stdout, add)).toThrow(message)
  })
  it('quotes at most 120 characters', () => {
    const stdout = 'y'.repeat(300)
    expect(() => processOutputs(stdout, add)).toThrow(
      `its output is not JSON: '${'y'.repeat(120)}...'`
    )
  })
})
