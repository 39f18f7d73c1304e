import { parseOutputFile } from '../../src/scheduler/output-file.js'

describe('parseOutputFile', () => {
  it.each([
    ['', {}],
    ['a=1\n', { a: '1' }],
    ['a=1\nb=x=y\n', { a: '1', b: 'x=y' }],
    ['a=\n', { a: '' }],
    ['a=1\r\n', { a: '1' }],
    ['a=1\na=2\n', { a: '2' }],
    ['msg<<EOF\nline 1\nline 2\nEOF\n', { msg: 'line 1\nline 2' }],
    ['msg<<EOF\nEOF\nn=3\n', { msg: '', n: '3' }],
    ['eq<<D\na=b\nD\n', { eq: 'a=b' }],
    ['k=a<<b\n', { k: 'a<<b' }]
  ])('%j', (text, expected) => expect(parseOutputFile(text)).toEqual(expected))

  it.each([
    ['msg<<EOF\nnever closed\n', "output 'msg': no closing 'EOF' line"],
    ['just text\n', "neither 'key=value' nor 'key<<DELIMITER'"]
  ])('refuses %j', (text, message) => expect(() => parseOutputFile(text)).toThrow(message))
})
