import assert from 'node:assert/strict'
import { put } from '../../src/store/database.js'
import { openTempSiteStore } from '../support/site-store.js'
import type { Reply } from '../../src/store/site-store.js'

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
})
