import assert from 'node:assert/strict'
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
})
