import assert from 'node:assert/strict'
import fc from 'fast-check'
import { envelopeHeaderLength, writeEnvelopeHeader } from '../../src/protocol/envelope-header.js'
import * as pb from '../../src/protocol/pb/tmtp.js'
import * as arb from '../support/arbitraries.js'

describe('the EnvelopeHeader written in place', () => {
  it('is the bytes protons writes for any header, at any offset, and nothing around them', () => {
    fc.assert(fc.property(arb.envelopeHeader(), fc.nat({ max: 8 }), (header, offset) => {
      const expected = pb.EnvelopeHeader.encode(header)
      assert.equal(envelopeHeaderLength(header), expected.byteLength)
      const out = new Uint8Array(offset + expected.byteLength + 3).fill(0xee)
      assert.equal(writeEnvelopeHeader(header, out, offset), offset + expected.byteLength)
      assert.deepEqual(out.subarray(offset, offset + expected.byteLength), expected)
      assert.ok(out.subarray(0, offset).every(b => b === 0xee) && out.subarray(offset + expected.byteLength).every(b => b === 0xee), 'nothing written outside the header')
    }), { numRuns: 1000 })
  })
})
