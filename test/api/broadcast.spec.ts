import assert from 'node:assert/strict'
import { createSiteApi } from '../../src/api/index.js'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'
import { TOKEN, assertError, call, json } from '../support/api.js'
import type { FastifyInstance } from 'fastify'
import type { MemberNode, SiteNode } from '../../src/node/index.js'

/**
 * Broadcasts end to end, real nodes over TCP on 127.0.0.1: a site that seals sends to more
 * than two devices in the background (directMaxDevices 2, two devices a batch), its API, and
 * member devices that must each hold the message once.
 */
describe('api: broadcasts', () => {
  let net: TestNet
  let site: SiteNode
  let api: FastifyInstance

  beforeEach(async () => {
    net = await TestNet.create()
    site = await net.site('site', { directMaxDevices: 2, fanoutBatch: 2 })
    api = createSiteApi({ node: site, token: TOKEN })
  })
  afterEach(async () => {
    await api.close()
    await net.cleanup()
  })

  async function device (ref: string, name: string): Promise<MemberNode> {
    const node = await net.member(name)
    await node.join((await site.createInvite({ ref })).token)
    return node
  }

  it('accepts a send to all and groups at once (202, fanout), delivers one copy to each device with its group, and counts and pages the copies', async () => {
    const devices = [await device('ann', 'ann-phone'), await device('ann', 'ann-laptop'), await device('bob', 'bob'), await device('cat', 'cat'), await device('dan', 'dan')]
    await site.createGroup({ name: 'Choir', members: ['ann', 'bob'] })
    const res = await call(api, 'POST', '/v1/messages', { body: { all: true, groups: ['Choir'], subject: 'Concert', body: 'Saturday' } })
    assert.equal(res.statusCode, 202)
    const sent = json(res)
    assert.deepEqual({ devices: sent.devices, fanout: sent.fanout, recipients: sent.recipients }, { devices: 5, fanout: true, recipients: [] })

    const copies = await Promise.all(devices.map(async d => await waitFor(`the message on ${d.peerId}`, async () => {
      const inbox = (await d.inbox()).filter(m => m.id === sent.id)
      return inbox.length > 0 && inbox
    })))
    assert.deepEqual(copies.map(c => c.map(m => m.group)), [['Choir'], ['Choir'], ['Choir'], [''], ['']])
    await waitFor('every copy delivered', async () => json(await call(api, 'GET', `/v1/messages/${sent.id as string}?limit=1`)).counts.delivered === 5)

    const seen: string[] = []
    let url = `/v1/messages/${sent.id as string}?limit=2`
    for (let page = 0; page < 5; page++) {
      const status = json(await call(api, 'GET', url))
      assert.deepEqual(status.counts, { pending: 0, queued: 0, delivered: 5, expired: 0, rejected: 0, dropped: 0, replaced: 0 })
      assert.equal(status.total, 5)
      assert.ok(status.devices.length <= 2)
      for (const d of status.devices) {
        assert.equal(d.state, 'delivered')
        assert.equal(typeof d.proof, 'string')
        seen.push(d.device)
      }
      if (status.next === null) break
      url = `/v1/messages/${sent.id as string}?limit=2&after=${status.next as string}`
    }
    assert.deepEqual(seen.sort(), devices.map(d => d.peerId).sort(), 'each device once over the pages')
    // no more than it was sent: the inboxes hold it once each
    for (const d of devices) assert.equal((await d.inbox()).filter(m => m.id === sent.id).length, 1)
  })

  it('refuses bad input with stable codes', async () => {
    await device('ann', 'ann')
    assertError(await call(api, 'POST', '/v1/messages', { body: { all: true, subject: 's', body: 'b', report: 'sometimes' } }), 400, 'INVALID_REQUEST')
    await assert.rejects(site.send({ all: true, subject: 's', body: 'b', report: 'sometimes' as never }), { code: 'INVALID_ARGUMENT' })
    const sent = json(await call(api, 'POST', '/v1/messages', { body: { all: true, subject: 's', body: 'b', report: 'once' } }))
    assert.equal(sent.fanout, true, 'report once makes a broadcast of any size')
    assertError(await call(api, 'GET', `/v1/messages/${sent.id as string}?limit=0`), 400, 'INVALID_REQUEST')
    assertError(await call(api, 'GET', `/v1/messages/${sent.id as string}?limit=1001`), 400, 'INVALID_ARGUMENT')
    assertError(await call(api, 'GET', `/v1/messages/${sent.id as string}?after=bm90LWEtY3Vyc29y`), 400, 'INVALID_ARGUMENT')
    assertError(await call(api, 'GET', `/v1/messages/${sent.id as string}?page=2`), 400, 'INVALID_REQUEST')
    assertError(await call(api, 'GET', `/v1/messages/${'0'.repeat(32)}`), 404, 'UNKNOWN_MESSAGE')
    await assert.rejects(site.message(sent.id as string, { limit: 0 }), { code: 'INVALID_ARGUMENT' })
  })
})
