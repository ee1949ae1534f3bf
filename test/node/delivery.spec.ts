import assert from 'node:assert/strict'
import { isTmtpError } from '../../src/protocol/errors.js'
import { setTimeout as delay } from 'node:timers/promises'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'

describe('node: delivery', () => {
  let net: TestNet

  beforeEach(async () => { net = await TestNet.create() })
  afterEach(async () => { await net.cleanup() })

  it('joins, delivers a message end to end with proof of delivery, and carries the reply back', async () => {
    const site = await net.site('Example')
    const member = await net.member('laptop')
    const invite = await site.createInvite({ ref: 'alice' })
    const joined = await member.join(invite.token)
    assert.equal(joined.siteName, 'Example')
    assert.equal(joined.site, site.peerId)

    const events: Array<{ id: string, siteName: string }> = []
    member.addEventListener('message', e => { events.push({ id: e.detail.id, siteName: e.detail.siteName }) })
    const sent = await site.send({ to: ['alice'], subject: 'Hello', body: '**hi**' })
    const inbox = await waitFor('the message', async () => { const i = await member.inbox(); return i.length > 0 && i })
    assert.deepEqual(events, [{ id: sent.id, siteName: 'Example' }])
    assert.deepEqual(inbox.map(m => [m.id, m.subject, m.body, m.contentType, m.seq, m.read]), [[sent.id, 'Hello', '**hi**', 'text/markdown', 1, false]])
    const status = await waitFor('delivered status', async () => { const s = await site.message(sent.id); return s.devices[0].state === 'delivered' && s })
    assert.equal(status.devices[0].device, member.peerId)
    assert.ok(status.devices[0].proof !== undefined && status.devices[0].proof.length > 0, 'the signed acknowledgement is kept')

    const read = await member.read(sent.id)
    assert.equal(read.read, true)
    assert.equal((await member.inbox({ unread: true })).length, 0)

    const post = await member.reply(sent.id, { body: 'thanks' })
    const replies = await waitFor('the reply', async () => { const r = await site.replies(); return r.length > 0 && r })
    assert.deepEqual(replies.map(r => [r.id, r.body, r.subject, r.replyTo, r.thread, r.member, r.ref]), [[post.id, 'thanks', 'Re: Hello', sent.id, sent.id, joined.member, 'alice']])
    await waitFor('the reply acknowledged', async () => (await member.post(post.id)).state === 'delivered')
  })

  it('delivers with power-loss-safe (fsync) writes on both sides', async () => {
    const site = await net.site('site', { fsync: true })
    const member = await net.member('member', { fsync: true })
    await member.join((await site.createInvite({ ref: 'sync' })).token)
    const sent = await Promise.all(Array.from({ length: 200 }, async (_, i) => await site.send({ to: ['sync'], subject: `m${i}`, body: 'x'.repeat(1024) })))
    await waitFor('all 200', async () => (await member.inbox()).length === 200)
    const stats = await waitFor('all acknowledged', async () => { const s = await site.stats(); return s.queued === 0 && s })
    assert.equal(stats.states.delivered, 200)
    assert.deepEqual(new Set((await member.inbox()).map(m => m.id)), new Set(sent.map(s => s.id)))
  })

  it('starts a new key epoch when the current one is old, and the device opens messages under both', async () => {
    const site = await net.site('site', { epochAgeMs: 200 })
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'epochs' })).token)
    const first = await site.send({ to: ['epochs'], subject: 'epoch 1', body: 'a' })
    await waitFor('the first message', async () => (await member.inbox()).length === 1)
    await delay(300)
    const second = await site.send({ to: ['epochs'], subject: 'epoch 2', body: 'b' })
    const inbox = await waitFor('both messages', async () => { const i = await member.inbox(); return i.length === 2 && i })
    assert.deepEqual(inbox.map(m => [m.id, m.body]), [[first.id, 'a'], [second.id, 'b']])
    // both remain readable after the rotation: the device keeps every epoch
    assert.equal((await member.read(first.id)).body, 'a')
    // and a reply goes out under the newest epoch
    const post = await member.reply(second.id, { body: 'ok' })
    await waitFor('the reply', async () => (await site.replies()).some(r => r.id === post.id))
  })

  it('delivers to every device of a member', async () => {
    const site = await net.site()
    const phone = await net.member('phone')
    const laptop = await net.member('laptop')
    const first = await phone.join((await site.createInvite({ ref: 'bob' })).token)
    const second = await laptop.join((await site.createInvite({ ref: 'bob' })).token)
    assert.equal(first.member, second.member, 'the second device joins the same member')
    const members = await site.members()
    assert.equal(members.length, 1)
    assert.deepEqual(members[0].devices.map(d => d.peerId).sort(), [phone.peerId, laptop.peerId].sort())

    const sent = await site.send({ to: [first.member], subject: 's', body: 'b' })
    assert.equal(sent.recipients.length, 2)
    for (const device of [phone, laptop]) {
      await waitFor('the message on each device', async () => (await device.inbox()).some(m => m.id === sent.id))
    }
    const status = await waitFor('both delivered', async () => { const s = await site.message(sent.id); return s.devices.every(d => d.state === 'delivered') && s })
    assert.equal(status.devices.length, 2)
  })

  it('acknowledges a trickle with fewer signed acks than messages by default (spec 15.2, deferred acks), each message in the inbox first', async () => {
    const site = await net.site()
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'dave' })).token)
    const arrived = new Map<string, number>()
    member.addEventListener('message', e => { arrived.set(e.detail.id, Date.now()) })
    const copy = async (id: string): Promise<{ state: string, at: number, proof?: string }> => (await site.message(id)).devices[0]
    // the first message opens the stream and is acknowledged at once: nothing was acknowledged on it before
    const first = await site.send({ to: ['dave'], subject: 'first', body: '' })
    await waitFor('the first acknowledged', async () => (await copy(first.id)).state === 'delivered')
    // the next ones follow closely: stored within ACK_DELAY_MS of that ack, they wait to share one
    const trickle: string[] = []
    for (let i = 0; i < 4; i++) {
      trickle.push((await site.send({ to: ['dave'], subject: `trickle ${i}`, body: '' })).id)
      await delay(20)
    }
    const copies = await waitFor('the trickle acknowledged', async () => {
      const all = await Promise.all(trickle.map(copy))
      return all.every(c => c.state === 'delivered') && all
    })
    const acks = new Set(copies.map(c => c.proof))
    assert.ok(!acks.has(undefined), 'each copy keeps its signed ack')
    assert.ok(acks.size < trickle.length, `${trickle.length} messages in ${acks.size} acks`)
    // what is held is the ack, not the message: each was in the inbox no later than the site learnt of it
    trickle.forEach((id, i) => { assert.ok((arrived.get(id) ?? Infinity) <= copies[i].at, `trickle ${i} arrived before its ack was stored`) })
  })

  it('sends the higher urgency first and numbers messages per device in sealing order', async () => {
    const site = await net.site()
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'carol' })).token)
    await net.stop(member)
    const low = await site.send({ to: ['carol'], subject: 'low', body: '', urgency: 'very-low' })
    const normal = await site.send({ to: ['carol'], subject: 'normal', body: '' })
    const high = await site.send({ to: ['carol'], subject: 'high', body: '', urgency: 'high' })
    const back = await net.member('member')
    const inbox = await waitFor('three messages', async () => { const i = await back.inbox(); return i.length === 3 && i })
    // the inbox orders by sequence number: gaps and order are visible to the member
    assert.deepEqual(inbox.map(m => m.id), [low.id, normal.id, high.id])
    // the device may hold its last ack for a moment (spec 15.2, deferred acks): wait for all three
    const delivered = await waitFor('all three acknowledged', async () => {
      const at = await Promise.all([low, normal, high].map(async m => (await site.message(m.id)).devices[0]))
      return at.every(d => d.state === 'delivered') && at.map(d => d.at as number)
    })
    assert.ok(delivered[2] <= delivered[1] && delivered[1] <= delivered[0], 'high was acknowledged no later than normal, normal no later than very-low')
  })

  it('replaces an undelivered message with a newer one of the same topic', async () => {
    const site = await net.site()
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'dave' })).token)
    await net.stop(member)
    const old = await site.send({ to: ['dave'], subject: 'score 1-0', body: '', topic: 'score' })
    const other = await site.send({ to: ['dave'], subject: 'unrelated', body: '' })
    const fresh = await site.send({ to: ['dave'], subject: 'score 2-0', body: '', topic: 'score' })
    assert.equal((await site.message(old.id)).devices[0].state, 'replaced')
    const back = await net.member('member')
    const inbox = await waitFor('two messages', async () => { const i = await back.inbox(); return i.length === 2 && i })
    assert.deepEqual(inbox.map(m => m.id), [other.id, fresh.id])
    await delay(200)
    assert.equal((await back.inbox()).length, 2, 'the replaced message never arrives')
  })

  it('bounds the queue per device: a full device\'s copy is dropped with QUEUE_FULL, a send to full devices only fails', async () => {
    const site = await net.site('site', { maxQueuePerDevice: 3 })
    const erin = await net.member('erin')
    const frank = await net.member('frank')
    await erin.join((await site.createInvite({ ref: 'erin' })).token)
    await frank.join((await site.createInvite({ ref: 'frank' })).token)
    await net.stop(erin)
    const queued = []
    for (let i = 0; i < 3; i++) queued.push(await site.send({ to: ['erin'], subject: `queued ${i}`, body: '' }))
    await assert.rejects(site.send({ to: ['erin'], subject: 'one too many', body: '' }), (err: Error & { code?: string }) => err.code === 'QUEUE_FULL')
    const dropped: string[] = []
    site.addEventListener('delivery', e => { if (e.detail.type === 'dropped') dropped.push(`${e.detail.member}:${e.detail.code ?? ''}`) })
    const both = await site.send({ to: ['erin', 'frank'], subject: 'to both', body: '' })
    const devices = (await site.message(both.id)).devices
    const erinCopy = devices.find(d => d.member !== devices.find(x => x.device === frank.peerId)?.member)
    assert.deepEqual([erinCopy?.state, erinCopy?.code], ['dropped', 'QUEUE_FULL'], 'erin\'s copy is dropped')
    assert.equal(devices.length, 2)
    assert.deepEqual(dropped, [`${erinCopy?.member ?? ''}:QUEUE_FULL`])
    await waitFor('frank has the message to both', async () => (await frank.inbox()).some(m => m.id === both.id))

    const back = await net.member('erin')
    const inbox = await waitFor('erin\'s three queued messages', async () => { const i = await back.inbox(); return i.length === 3 && i })
    assert.deepEqual(inbox.map(m => m.id), queued.map(q => q.id))
    await waitFor('erin\'s queue emptied', async () => (await site.stats()).queued === 0)
    // delivered messages leave the count: the device takes new messages again
    const after = await site.send({ to: ['erin'], subject: 'room again', body: '' })
    await waitFor('the new message', async () => (await back.inbox()).some(m => m.id === after.id))
  })

  it('honours idempotency keys: a retried send sends nothing new', async () => {
    const site = await net.site()
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'erin' })).token)
    const first = await site.send({ to: ['erin'], subject: 'once', body: '', idempotencyKey: 'order-17' })
    const again = await site.send({ to: ['erin'], subject: 'once', body: '', idempotencyKey: 'order-17' })
    assert.equal(again.id, first.id)
    assert.equal(again.duplicate, true)
    await waitFor('the message', async () => (await member.inbox()).length === 1)
    await delay(200)
    assert.equal((await member.inbox()).length, 1)
  })

  it('reports an expired message expired and never puts it in the inbox', async () => {
    const site = await net.site()
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'frank' })).token)
    await net.stop(member)
    const shortLived = await site.send({ to: ['frank'], subject: 'gone soon', body: '', ttlMs: 100 })
    const lasting = await site.send({ to: ['frank'], subject: 'stays', body: '' })
    await delay(200)
    const back = await net.member('member')
    await waitFor('the lasting message', async () => (await back.inbox()).some(m => m.id === lasting.id))
    const status = await site.message(shortLived.id)
    assert.equal(status.devices[0].state, 'expired')
    assert.equal(status.devices[0].code, 'EXPIRED')
    assert.deepEqual((await back.inbox()).map(m => m.id), [lasting.id])
  })

  it('rejects bad sends with stable codes', async () => {
    const site = await net.site()
    await assert.rejects(site.send({ to: ['nobody'], subject: 's', body: 'b' }), (err: Error & { code?: string }) => err.code === 'UNKNOWN_MEMBER')
    await assert.rejects(site.send({ to: [], subject: 's', body: 'b' }), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT')
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'gina' })).token)
    await assert.rejects(site.send({ to: ['gina'], subject: 's', body: 'x'.repeat(64 * 1024 + 1) }), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT')
    await assert.rejects(site.send({ to: ['gina'], subject: 's', body: 'b', ttlMs: -1 }), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT')
    await assert.rejects(site.message('not-an-id'), (err: Error & { code?: string }) => err.code === 'UNKNOWN_MESSAGE')
    await assert.rejects(member.reply('00'.repeat(16), { body: 'b' }), (err: Error & { code?: string }) => err.code === 'UNKNOWN_MESSAGE')
    assert.equal(isTmtpError(new Error('x')), false)
  })
})
