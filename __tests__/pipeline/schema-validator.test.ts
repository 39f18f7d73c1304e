import { Ajv } from 'ajv'
import { PIPELINE_SCHEMA } from '../../src/pipeline/schema-validator.js'

describe('PIPELINE_SCHEMA', () => {
  // The validator skips this check at run time to start faster; this is where it is made.
  it('is a valid JSON Schema', () => {
    const ajv = new Ajv({ strict: false })
    ajv.addKeyword({ keyword: 'quantity', schemaType: 'string' })
    expect(ajv.validateSchema(PIPELINE_SCHEMA)).toBe(true)
    expect(ajv.errors ?? null).toBeNull()
  })
})
