import { parse } from 'yaml'
import { referencedVariables } from '../../src/pipeline/variables.js'

describe('referencedVariables', () => {
  it.each([
    ['jobs: {a: {runs-on: {with: {image: x}}}}', []],
    ['jobs: {a: {runs-on: {with: {image: x, environment: {K: "${API_KEY}"}}}}}', ['API_KEY']],
    [
      'jobs: {a: {runs-on: {with: {image: x, auth: {username: u, password: "${REG_PASS}"}}}}}',
      ['REG_PASS']
    ],
    ['jobs: {a: {runs-on: {with: {image: "r/${TAG}:${TAG}"}}}}', ['TAG']],
    ['jobs: {a: {services: {db: {image: pg, env: {P: "${DB_PASS}"}}}}}', ['DB_PASS']],
    [
      'jobs: {a: {stages: [{run: "echo ${SHELL_VAR}", env: {T: "${STAGE_TOKEN}"}}]}}',
      ['STAGE_TOKEN']
    ],
    // `$${` is the escape for a literal `${`; a malformed one is validation's to report.
    ['jobs: {a: {runs-on: {with: {environment: {A: "$${NOT}", B: "${bad"}}}}}', []]
  ])('%s', (text, expected) => expect(referencedVariables(parse(text))).toEqual(expected))
})
