import assert from 'node:assert/strict'
import { ReplyQuota } from '../../src/delivery/reply-quota.js'
import { openTempSiteStore } from '../support/site-store.js'
import type { Reply } from '../../src/store/site-store.js'

describe('delivery/reply-quota', () => {
  let handle: Awaited<ReturnType<typeof openTempSiteStore>>
  beforeEach(async () => { handle = await openTempSiteStore() })
  afterEach(async () => { await handle.close() })

  it('grants replies within the rate per device, the rate per member and the member\'s stored bytes, and counts only what it grants', async () => {
    let now = 1_000_000
    const quota = new ReplyQuota({ repliesPerMinute: 3, repliesPerMinutePerMember: 5, replyBytesPerMember: 1000 }, handle.store, () => now)
    assert.equal(await quota.grant('phone', 'ann', [10, 10, 10, 10]), 3, 'three a minute from one device')
    assert.equal(await quota.grant('phone', 'ann', [10]), 0)
    assert.equal(await quota.grant('laptop', 'ann', [10, 10, 10]), 2, 'five a minute from the member\'s devices together')
    now += 60_000
    assert.equal(await quota.grant('phone', 'ann', [10]), 1, 'a new minute')

    // stored bytes: what the store counts for the member
    const reply: Reply = { id: 'ab'.repeat(16), device: 'Tab3', member: 'bob', ref: 'bob', subject: '', body: 'x'.repeat(700), contentType: 'text/markdown', thread: '', replyTo: '', created: now, received: now }
    await handle.store.write(handle.store.putReplies([reply]))
    const stored = await handle.store.replyBytes('bob')
    assert.ok(stored > 700)
    assert.equal(await quota.grant('Tab3', 'bob', [1000 - stored + 1]), 0, 'one byte over the quota')
    assert.equal(await quota.grant('Tab3', 'bob', [1000 - stored, 1]), 1, 'exactly the room left, then nothing')
    await handle.store.deleteReplies({ through: (await handle.store.replies({ limit: 1 }))[0].cursor })
    assert.equal(await handle.store.replyBytes('bob'), 0, 'collected replies free the quota')
  })

  it('deletes replies older than the retention time, oldest first, and only those', async () => {
    const reply = (id: string, received: number): Reply => ({ id, device: 'd', member: 'm', ref: '', subject: '', body: 'b', contentType: 'text/markdown', thread: '', replyTo: '', created: received, received })
    await handle.store.write(handle.store.putReplies([reply('01'.repeat(16), 1000), reply('02'.repeat(16), 2000), reply('03'.repeat(16), 3000)]))
    assert.equal(await handle.store.deleteReplies({ before: 2500 }), 2)
    assert.deepEqual((await handle.store.replies({ limit: 10 })).map(r => r.received), [3000])
    assert.deepEqual(await handle.store.knownReplies('d', ['01'.repeat(16), '03'.repeat(16)]), [false, true])
  })
})
