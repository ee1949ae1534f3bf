import assert from 'node:assert/strict'
import fc from 'fast-check'
import { toHex } from '../../src/util/hex.js'

describe('util/hex', () => {
  it('writes the lower-case hex Node.js writes, for any bytes, also longer than its scratch buffer and after them', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 40 }), (bytes, next) => {
      assert.equal(toHex(bytes), Buffer.from(bytes).toString('hex'))
      // a shorter input after a longer one is not read past its own length
      assert.equal(toHex(next), Buffer.from(next).toString('hex'))
    }))
  })

  it('reads a view at its own offset and length', () => {
    const bytes = Uint8Array.from([0x00, 0xab, 0xcd, 0xef, 0xff])
    assert.equal(toHex(bytes.subarray(1, 4)), 'abcdef')
    assert.equal(toHex(new Uint8Array(0)), '')
  })
})
