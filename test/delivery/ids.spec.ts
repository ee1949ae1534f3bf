import assert from 'node:assert/strict'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { MESSAGE_ID_BYTES } from '../../src/protocol/constants.js'
import { newMessageId } from '../../src/delivery/ids.js'

describe('delivery/ids', () => {
  it('makes distinct 16-byte ids across pool refills, each its own copy', () => {
    const ids = Array.from({ length: 1000 }, () => newMessageId())
    assert.ok(ids.every(id => id.byteLength === MESSAGE_ID_BYTES))
    assert.equal(new Set(ids.map(id => uint8ArrayToString(id, 'base16'))).size, 1000)
    // an id is not a view of the pool: changing one changes no other
    const before = uint8ArrayToString(ids[1], 'base16')
    ids[0].fill(0)
    assert.equal(uint8ArrayToString(ids[1], 'base16'), before)
    assert.equal(ids[0].buffer.byteLength, MESSAGE_ID_BYTES)
  })
})
