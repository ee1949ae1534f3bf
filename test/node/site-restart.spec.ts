import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'

describe('node: a restarted site finds its devices', () => {
  let net: TestNet

  beforeEach(async () => { net = await TestNet.create() })
  afterEach(async () => { await net.cleanup() })

  it('dials a device that joined and stayed up at its listen address, not at the port it joined from', async () => {
    // no DHT and no reconnecting device: the site's stored addresses are its only way
    const site = await net.site('site', { dht: false })
    const member = await net.member('phone', { dht: false, connectToSites: false })
    await member.join((await site.createInvite({ ref: 'ann' })).token)
    await net.stop(site)

    const restarted = await net.site('site', { dht: false })
    assert.equal(restarted.peerId, site.peerId)
    const sent = await restarted.send({ to: ['ann'], subject: 'after the restart', body: 'hi' })
    const inbox = await waitFor('the message', async () => { const i = await member.inbox(); return i.length > 0 && i }, 10_000)
    assert.deepEqual(inbox.map(m => m.id), [sent.id])
  })

  it('a site that lost its state and is rejoined delivers again, and the messages from before stay readable', async () => {
    const site = await net.site('site', { dht: false })
    const member = await net.member('phone', { dht: false })
    await member.join((await site.createInvite({ ref: 'ann' })).token)
    const before = await site.send({ to: ['ann'], subject: 'before', body: 'one' })
    await waitFor('the first message', async () => (await member.inbox()).length === 1, 10_000)
    await net.stop(site)

    // the database is lost; the identity key is kept: the same site, knowing nothing of its members
    await rm(join(net.path('site'), 'db'), { recursive: true, force: true })
    const reborn = await net.site('site', { dht: false })
    assert.equal(reborn.peerId, site.peerId)
    await member.join((await reborn.createInvite({ ref: 'ann' })).token)
    const after = await reborn.send({ to: ['ann'], subject: 'after', body: 'two' })
    await waitFor('the message after the loss', async () => (await reborn.message(after.id)).devices[0].state === 'delivered', 10_000)
    assert.equal((await member.read(after.id)).body, 'two')
    assert.equal((await member.read(before.id)).body, 'one', 'a message sealed under the old epoch is still readable')
  })
})
