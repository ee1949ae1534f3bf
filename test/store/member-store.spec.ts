import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { Envelope, EnvelopeHeader } from '../../src/protocol/pb/tmtp.js'
import { decodeInboxEntry, encodeInboxEntry } from '../../src/store/member-store.js'

describe('store/member-store', () => {
  it('an inbox entry keeps its envelope byte for byte, its state, and reads the rest from the header', () => {
    fc.assert(fc.property(
      fc.record({ seq: fc.integer({ min: 1, max: 2 ** 40 }), epoch: fc.integer({ min: 1, max: 1000 }), created: fc.integer({ min: 0, max: 2 ** 45 }), ttl: fc.integer({ min: 1, max: 2 ** 30 }) }),
      fc.boolean(), fc.integer({ min: 0, max: 2 ** 45 }), fc.uint8Array({ maxLength: 2048 }),
      (h, read, received, ciphertext) => {
        const id = new Uint8Array(randomBytes(16))
        const header = EnvelopeHeader.encode({ version: 1, id, sender: new Uint8Array(36), recipient: new Uint8Array(36), epoch: h.epoch, seq: h.seq, created: h.created, expires: h.created + h.ttl })
        const envelope = Envelope.encode({ header, ciphertext })
        const record = decodeInboxEntry('site-a', encodeInboxEntry({ read, received, envelope }))
        assert.deepEqual(record.envelope, envelope)
        assert.deepEqual({ ...record, envelope: undefined }, {
          id: uint8ArrayToString(id, 'base16'), site: 'site-a', seq: h.seq, epoch: h.epoch, created: h.created, expires: h.created + h.ttl, received, read, envelope: undefined
        })
      }))
  })
})
