import assert from 'node:assert/strict'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { sha256 } from '../../src/crypto/index.js'
import { put } from '../../src/store/database.js'
import { openTempSiteStore } from '../support/site-store.js'
import type { MessageRecord, Reply } from '../../src/store/site-store.js'

describe('store/site-store', () => {
  let handle: Awaited<ReturnType<typeof openTempSiteStore>>
  beforeEach(async () => { handle = await openTempSiteStore() })
  afterEach(async () => { await handle.close() })

  const reply = (id: string, device: string, received: number): Reply => ({
    id, device, member: `m-${device}`, ref: device, subject: '', body: `from ${device}`, contentType: 'text/markdown', thread: '', replyTo: '', created: received, received
  })

  it('deduplicates replies per device: the same id from two devices is two replies; an older node\'s index still counts for its device', async () => {
    const id = 'ab'.repeat(16)
    const { store } = handle
    await store.write(store.putReplies([reply(id, 'DeviceA', 1000), reply(id, 'DeviceB', 1000)]))
    assert.deepEqual(await store.knownReplies('DeviceA', [id, 'cd'.repeat(16)]), [true, false])
    assert.deepEqual(await store.knownReplies('DeviceC', [id]), [false])
    // as an older node wrote a reply: rp:<received>:<id>, rid:<id>
    const old = 'ef'.repeat(16)
    await handle.db.write([put(`rp:0000000000000500:${old}`, reply(old, 'DeviceC', 500)), put(`rid:${old}`, `rp:0000000000000500:${old}`)])
    assert.deepEqual(await store.knownReplies('DeviceC', [old]), [true])
    assert.deepEqual(await store.knownReplies('DeviceA', [old]), [false], 'another device may use the same id')

    const first = await store.replies({ limit: 2 })
    assert.deepEqual(first.map(r => r.body), ['from DeviceC', 'from DeviceA'])
    const rest = await store.replies({ after: first[1].cursor, limit: 2 })
    assert.deepEqual(rest.map(r => r.body), ['from DeviceB'])
    assert.deepEqual((await store.replies({ after: first[0].cursor, limit: 5 })).length, 2, 'an older key is a cursor too')
  })

  it('records a delivery per run of consecutive sequence numbers, not per message, and reads each copy\'s state and proof from it; an older node\'s record per message still reads', async () => {
    const { store, db } = handle
    const device = 'DeviceD'
    const message = (k: number): MessageRecord => ({ id: k.toString(16).padStart(32, '0'), created: 100 + k, expires: 1e12, urgency: 'normal', subject: `m${k}`, members: ['m1'], recipients: [{ member: 'm1', device, seq: k, rank: 1 }] })
    const entries = [1, 2, 3, 4, 5].map(k => {
      const queued = store.queueEnvelope(device, 1, k, Uint8Array.of(k))
      return { key: queued.key, idHex: message(k).id, writes: [...queued.writes, ...store.recordMessage(message(k))] }
    })
    await store.write(entries.flatMap(e => e.writes))
    const keys = async (prefix: string): Promise<number> => (await db.range(prefix, { limit: -1 })).length
    const first = Uint8Array.of(1, 2, 3)
    // 1, 2, 4 and 5 acknowledged together: two runs; 3 stays queued
    await store.write(store.settle(device, [entries[4], entries[0], entries[3], entries[1]], { state: 'delivered', at: 5000 }, first))
    assert.equal(await keys('st:'), 0, 'no record per delivered message')
    assert.equal(await keys('dl:'), 2)
    const state = async (k: number): Promise<[string, number, string | undefined]> => {
      const [s] = await store.statuses(message(k))
      return [s.state, s.at, s.ack]
    }
    const firstAck = uint8ArrayToString(sha256(first), 'base16')
    for (const k of [1, 2, 4, 5]) assert.deepEqual(await state(k), ['delivered', 5000, firstAck])
    assert.deepEqual(await state(3), ['queued', 103, undefined])
    assert.equal((await store.messageStatus(message(4).id, { limit: 10 }))?.devices[0].proof, uint8ArrayToString(first, 'base64'))

    const second = Uint8Array.of(4, 5, 6)
    await store.write(store.settle(device, [entries[2]], { state: 'delivered', at: 6000 }, second))
    assert.deepEqual(await state(3), ['delivered', 6000, uint8ArrayToString(sha256(second), 'base16')])
    assert.deepEqual(await state(2), ['delivered', 5000, firstAck])
    assert.deepEqual(await store.counts(), { queued: 0, delivered: 5, rejected: 0, expired: 0, dropped: 0, replaced: 0 })

    // an older node wrote the delivery of message 6 as a record of its own
    await store.write([...store.recordMessage(message(6)), put(`st:${message(6).id}:${device}`, { state: 'delivered', at: 7000, ack: 'ee' })])
    assert.deepEqual(await state(6), ['delivered', 7000, 'ee'])
  })
})
