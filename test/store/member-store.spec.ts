import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { Envelope, EnvelopeHeader } from '../../src/protocol/pb/tmtp.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database, put } from '../../src/store/database.js'
import { decodeInboxEntry, encodeInboxEntry, MemberStore } from '../../src/store/member-store.js'

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

  it('keys the inbox by (site, epoch, seq) and the id index by site, and brings an older node\'s keys (in:<site>:<seq>, iid:<id>) up to date on open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tmtp-member-store-'))
    const db = await Database.open(join(dir, 'db'), { fsync: false })
    try {
      const id = new Uint8Array(randomBytes(16))
      const header = EnvelopeHeader.encode({ version: 1, id, sender: new Uint8Array(36), recipient: new Uint8Array(36), epoch: 1, seq: 7, created: 1, expires: 2 })
      const envelope = Envelope.encode({ header, ciphertext: new Uint8Array(4) })
      const idHex = uint8ArrayToString(id, 'base16')
      // as an older node left it: the index names no site
      await db.write([put('in:site-a:0000000000000007', encodeInboxEntry({ read: false, received: 3, envelope })), put(`iid:${idHex}`, 'in:site-a:0000000000000007')])
      const store = await MemberStore.open(db)
      assert.deepEqual((await store.inboxById(idHex)).map(r => [r.site, r.seq]), [['site-a', 7]])
      assert.deepEqual(await store.knownInbox('site-a', [idHex]), [true])
      assert.deepEqual(await store.knownInbox('site-b', [idHex]), [false], 'the same id from another site is another message')
      assert.equal(await db.get(`iid:${idHex}`), undefined, 'the old index entry is gone')
      assert.equal(await db.get('in:site-a:0000000000000007'), undefined, 'the old inbox key is gone')
      assert.notEqual(await db.get('in:site-a:0000000000000001:0000000000000007'), undefined)
    } finally {
      await db.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a message the member deletes leaves the inbox, and its id stays known (spec 11.7: a resend is a duplicate)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tmtp-member-store-'))
    const db = await Database.open(join(dir, 'db'), { fsync: false })
    try {
      const store = await MemberStore.open(db)
      const id = new Uint8Array(randomBytes(16))
      const header = EnvelopeHeader.encode({ version: 1, id, sender: new Uint8Array(36), recipient: new Uint8Array(36), epoch: 1, seq: 3, created: 1, expires: 0 })
      const record = decodeInboxEntry('site-a', encodeInboxEntry({ read: false, received: 2, envelope: Envelope.encode({ header, ciphertext: new Uint8Array(16) }) }))
      await store.write(store.putInbox([record]))
      await store.write(store.deleteInbox(record))
      assert.deepEqual(await store.inboxById(record.id), [])
      const left = []
      for await (const entry of store.inbox()) left.push(entry)
      assert.deepEqual(left, [])
      assert.deepEqual(await store.knownInbox('site-a', [record.id]), [true])
    } finally {
      await db.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
