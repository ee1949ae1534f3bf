import assert from 'node:assert/strict'
import { request } from 'node:http'
import { createSiteApi } from '../../src/api/index.js'
import { waitFor } from '../../src/cli/time.js'
import { ErrorCode } from '../../src/node/index.js'
import { TestNet } from '../support/nodes.js'
import { AUTH, TOKEN, assertError, call, joinedPair, json, waitForState } from '../support/api.js'
import type { FastifyInstance } from 'fastify'
import type { MemberNode } from '../../src/node/member-node.js'
import type { SiteNode } from '../../src/node/site-node.js'

/** A GET with the path sent exactly as given (fetch would normalize dot segments). */
async function rawGet (address: string, path: string): Promise<{ statusCode: number, body: string }> {
  const url = new URL(address)
  return await new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: AUTH }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { body += chunk })
      res.on('end', () => { resolve({ statusCode: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('api: site', () => {
  let net: TestNet
  let site: SiteNode
  let member: MemberNode
  let memberId: string
  let api: FastifyInstance

  beforeEach(async () => {
    net = await TestNet.create()
    ;({ site, member, memberId } = await joinedPair(net))
    api = createSiteApi({ node: site, token: TOKEN, name: 'Example site' })
  })

  afterEach(async () => {
    await api.close()
    await net.cleanup()
  })

  async function send (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ id: string, duplicate: boolean, recipients: Array<{ member: string, device: string }> }> {
    const res = await call(api, 'POST', '/v1/messages', { body, headers })
    assert.equal(res.statusCode, 202, res.body)
    return json(res)
  }

  describe('happy paths', () => {
    it('GET /healthz answers without a token, and names neither the site nor its device', async () => {
      const res = await call(api, 'GET', '/healthz', { token: false })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(json(res), { status: 'ok', role: 'site' })
      for (const peer of [site.peerId, member.peerId]) assert.ok(!res.body.includes(peer), res.body)
    })

    it('GET /v1/status reports identity, addresses and counts', async () => {
      const res = await call(api, 'GET', '/v1/status')
      assert.equal(res.statusCode, 200)
      const status = json(res)
      assert.equal(status.role, 'site')
      assert.equal(status.peerId, site.peerId)
      assert.equal(status.name, 'Example site')
      assert.ok(status.listen.length > 0 && status.listen.every((a: string) => a.startsWith('/ip4/127.0.0.1/tcp/')))
      assert.equal(typeof status.connectedPeers, 'number')
      assert.equal(status.queued, 0)
      assert.equal(status.delivered, 0)
      assert.deepEqual(Object.keys(status.states).sort(), ['delivered', 'dropped', 'expired', 'queued', 'rejected', 'replaced'])
      assert.equal(typeof status.activeDeliveries, 'number')
    })

    it('POST /v1/messages queues, GET /v1/messages/:id follows it to delivered', async () => {
      const sent = await send({ to: ['alice'], subject: 'Hello', body: 'First message', urgency: 'high', ttlSeconds: 3600, contentType: 'text/plain' })
      assert.match(sent.id, /^[0-9a-f]{32}$/)
      assert.equal(sent.duplicate, false)
      assert.deepEqual(sent.recipients, [{ member: memberId, device: member.peerId }])
      await waitForState(site, sent.id, 'delivered')
      const res = await call(api, 'GET', `/v1/messages/${sent.id}`)
      assert.equal(res.statusCode, 200)
      const status = json(res)
      assert.equal(status.id, sent.id)
      assert.equal(status.subject, 'Hello')
      assert.equal(status.urgency, 'high')
      assert.equal(status.devices.length, 1)
      assert.equal(status.devices[0].state, 'delivered')
      assert.equal(status.devices[0].device, member.peerId)
      assert.equal(typeof status.devices[0].proof, 'string')
      const inbox = await member.inbox()
      assert.deepEqual(inbox.map(m => [m.id, m.subject, m.body]), [[sent.id, 'Hello', 'First message']])
      const after = json(await call(api, 'GET', '/v1/status'))
      assert.equal(after.delivered, 1)
    })

    it('sends to a member id, with thread, replyTo and topic', async () => {
      const first = await send({ to: [memberId], subject: 'a', body: 'a', topic: 'news' })
      const second = await send({ to: [memberId], subject: 'b', body: 'b', topic: 'news', thread: first.id, replyTo: first.id })
      assert.notEqual(first.id, second.id)
      await waitForState(site, second.id, 'delivered')
    })

    it('POST /v1/invites issues invites, with or without a body', async () => {
      const res = await call(api, 'POST', '/v1/invites', { body: { ref: 'bob', expiresInSeconds: 600 } })
      assert.equal(res.statusCode, 201)
      const invite = json(res)
      assert.match(invite.token, /^tmtp1:/)
      assert.equal(invite.ref, 'bob')
      assert.ok(invite.expires > Date.now() + 500_000 && invite.expires <= Date.now() + 600_000)
      const bare = await call(api, 'POST', '/v1/invites')
      assert.equal(bare.statusCode, 201)
      assert.equal(json(bare).ref, '')
      const empty = await call(api, 'POST', '/v1/invites', { payload: '', headers: { 'content-type': 'application/json' } })
      assert.equal(empty.statusCode, 201, empty.body)
      // the invite works: a second device joins as bob
      const other = await net.member('other')
      const joined = await other.join(invite.token)
      const bob = json(await call(api, 'GET', '/v1/members/bob'))
      assert.equal(bob.id, joined.member)
      assert.deepEqual(bob.devices.map((d: { peerId: string }) => d.peerId), [other.peerId])
    })

    it('GET /v1/members, GET and DELETE /v1/members/:ref; the removal revokes the invites not yet redeemed for its reference', async () => {
      const pending = json(await call(api, 'POST', '/v1/invites', { body: { ref: 'alice' } }))
      const list = json(await call(api, 'GET', '/v1/members'))
      assert.deepEqual(list.members.map((m: { id: string, ref: string }) => [m.id, m.ref]), [[memberId, 'alice']])
      const byRef = json(await call(api, 'GET', '/v1/members/alice'))
      const byId = json(await call(api, 'GET', `/v1/members/${memberId}`))
      assert.deepEqual(byRef, byId)
      assert.equal(byRef.devices[0].peerId, member.peerId)
      assert.equal(byRef.devices[0].name, 'member')
      const removed = await call(api, 'DELETE', '/v1/members/alice')
      assert.equal(removed.statusCode, 200)
      assert.equal(json(removed).id, memberId)
      assertError(await call(api, 'GET', '/v1/members/alice'), 404, 'UNKNOWN_MEMBER')
      assertError(await call(api, 'DELETE', `/v1/members/${memberId}`), 404, 'UNKNOWN_MEMBER')
      assert.deepEqual(json(await call(api, 'GET', '/v1/members')).members, [])
      const other = await net.member('other')
      await assert.rejects(other.join(pending.token), { code: ErrorCode.INVITE_UNKNOWN })
      const fresh = json(await call(api, 'POST', '/v1/invites', { body: { ref: 'alice' } }))
      const again = await other.join(fresh.token)
      assert.notEqual(again.member, memberId, 'a new member')
      assert.equal(json(await call(api, 'GET', '/v1/members/alice')).id, again.member)
    })

    it('GET /v1/replies pages through replies with a cursor', async () => {
      const sent = await send({ to: ['alice'], subject: 'Question', body: 'Coming?' })
      await waitForState(site, sent.id, 'delivered')
      await member.reply(sent.id, { body: 'yes' })
      await member.reply(sent.id, { body: 'really', subject: 'again' })
      await waitFor('two replies', async () => (await site.replies()).length === 2)

      const all = json(await call(api, 'GET', '/v1/replies'))
      // replies of one batch share their received time: their order is the store's
      const order = all.replies.map((r: { body: string }) => r.body)
      assert.deepEqual([...order].sort(), ['really', 'yes'])
      assert.equal(all.next, null)
      const yes = all.replies.find((r: { body: string }) => r.body === 'yes')
      assert.equal(yes.member, memberId)
      assert.equal(yes.ref, 'alice')
      assert.equal(yes.replyTo, sent.id)
      assert.equal(yes.subject, 'Re: Question')

      const page1 = json(await call(api, 'GET', '/v1/replies?limit=1'))
      assert.deepEqual(page1.replies.map((r: { body: string }) => r.body), [order[0]])
      assert.equal(typeof page1.next, 'string')
      const page2 = json(await call(api, 'GET', `/v1/replies?limit=1&after=${encodeURIComponent(page1.next as string)}`))
      assert.deepEqual(page2.replies.map((r: { body: string }) => r.body), [order[1]])
      assert.equal(page2.next, null)
    })

    it('DELETE /v1/replies?through= deletes the replies collected, up to and including the cursor', async () => {
      const sent = await send({ to: ['alice'], subject: 'Question', body: 'Coming?' })
      await waitForState(site, sent.id, 'delivered')
      for (const body of ['one', 'two', 'three']) await member.reply(sent.id, { body })
      await waitFor('three replies', async () => (await site.replies()).length === 3)
      const page = json(await call(api, 'GET', '/v1/replies?limit=2'))
      assert.deepEqual(json(await call(api, 'DELETE', `/v1/replies?through=${encodeURIComponent(page.next as string)}`)), { deleted: 2 })
      const left = json(await call(api, 'GET', '/v1/replies')).replies.map((r: { body: string }) => r.body)
      assert.deepEqual([...left, ...page.replies.map((r: { body: string }) => r.body)].sort(), ['one', 'three', 'two'], 'the two collected went, the third stays')
      assertError(await call(api, 'DELETE', '/v1/replies'), 400, 'INVALID_REQUEST')
      assertError(await call(api, 'DELETE', '/v1/replies?through=zzz'), 400, 'INVALID_ARGUMENT')
    })

    it('GET /v1/webhook without a webhook: url null', async () => {
      assert.deepEqual(json(await call(api, 'GET', '/v1/webhook')), { url: null, pending: 0 })
    })

    it('GET /metrics has the metric names after a delivery and a reply', async () => {
      const sent = await send({ to: ['alice'], subject: 'm', body: 'm' })
      await waitForState(site, sent.id, 'delivered')
      await member.reply(sent.id, { body: 'r' })
      await waitFor('a reply', async () => (await site.replies()).length === 1)
      const res = await call(api, 'GET', '/metrics')
      assert.equal(res.statusCode, 200)
      assert.match(String(res.headers['content-type']), /^text\/plain/)
      for (const name of [
        'tmtp_outbox_queue_depth', 'tmtp_deliveries_total', 'tmtp_delivery_retries_total', 'tmtp_expiries_total',
        'tmtp_delivery_latency_seconds_bucket', 'tmtp_connected_peers', 'tmtp_replies_received_total', 'tmtp_active_deliveries'
      ]) {
        assert.ok(res.body.includes(`\n${name}`) || res.body.startsWith(name), `${name} in /metrics`)
      }
      assert.match(res.body, /^tmtp_deliveries_total\{state="delivered"\} 1$/m)
      assert.match(res.body, /^tmtp_replies_received_total 1$/m)
      assert.match(res.body, /^tmtp_delivery_latency_seconds_count 1$/m)
      assert.match(res.body, /^tmtp_outbox_queue_depth 0$/m)
      // libp2p's own metrics: handshakes, and bytes per protocol
      assert.match(res.body, /^libp2p_noise_xxhandshake_successes_total [1-9]/m)
      assert.match(res.body, /^libp2p_data_transfer_bytes_total\{protocol="\/tmtp\/deliver\/1\.0\.0 sent"\} [1-9]/m)
      assertError(await call(api, 'GET', '/metrics', { token: false }), 401, 'UNAUTHORIZED')
    })

    it('two site APIs in one process keep separate metrics', async () => {
      const other = await net.site('other')
      const otherApi = createSiteApi({ node: other, token: TOKEN })
      try {
        const sent = await send({ to: ['alice'], subject: 'm', body: 'm' })
        await waitForState(site, sent.id, 'delivered')
        assert.match((await call(api, 'GET', '/metrics')).body, /^tmtp_deliveries_total\{state="delivered"\} 1$/m)
        assert.match((await call(otherApi, 'GET', '/metrics')).body, /^tmtp_deliveries_total\{state="delivered"\} 0$/m)
      } finally {
        await otherApi.close()
      }
    })
  })

  describe('idempotency', () => {
    it('the same Idempotency-Key returns the same id, duplicate: true, and one message is delivered', async () => {
      const headers = { 'idempotency-key': 'order-42' }
      const first = await send({ to: ['alice'], subject: 'Receipt', body: 'Order 42' }, headers)
      const again = await send({ to: ['alice'], subject: 'Receipt', body: 'Order 42' }, headers)
      assert.equal(again.id, first.id)
      assert.equal(first.duplicate, false)
      assert.equal(again.duplicate, true)
      assert.deepEqual(again.recipients, first.recipients)
      const concurrent = await Promise.all([1, 2, 3].map(async () => await send({ to: ['alice'], subject: 'Receipt', body: 'Order 42' }, headers)))
      assert.ok(concurrent.every(r => r.id === first.id && r.duplicate))
      await waitForState(site, first.id, 'delivered')
      const other = await send({ to: ['alice'], subject: 'Other', body: 'x' }, { 'idempotency-key': 'order-43' })
      await waitForState(site, other.id, 'delivered')
      const inbox = await member.inbox()
      assert.deepEqual(inbox.map(m => m.id), [first.id, other.id])
    })

    it('refuses an empty or too long Idempotency-Key', async () => {
      const body = { to: ['alice'], subject: 's', body: 'b' }
      assertError(await call(api, 'POST', '/v1/messages', { body, headers: { 'idempotency-key': '' } }), 400, 'INVALID_REQUEST')
      assertError(await call(api, 'POST', '/v1/messages', { body, headers: { 'idempotency-key': 'k'.repeat(257) } }), 400, 'INVALID_REQUEST')
      assert.equal((await member.inbox()).length, 0)
    })
  })

  describe('bad input', () => {
    const good = { to: ['alice'], subject: 's', body: 'b' }

    it('refuses bodies of the wrong shape with 400 INVALID_REQUEST', async () => {
      const bad: unknown[] = [
        { ...good, subject: 123 },
        { ...good, body: null },
        { ...good, to: 'alice' },
        { ...good, to: [] },
        { ...good, to: [''] },
        { ...good, to: [42] },
        { ...good, to: Array.from({ length: 1001 }, (_, i) => `m${i}`) },
        { ...good, extra: true },
        { to: ['alice'], subject: 's' },
        { ...good, subject: 's'.repeat(1025) },
        { ...good, body: 'b'.repeat(65537) },
        { ...good, ttlSeconds: 1.5 },
        { ...good, ttlSeconds: '60' },
        { ...good, ttlSeconds: 0 },
        { ...good, urgency: 'urgent' },
        { ...good, topic: '' },
        { ...good, thread: 'not-hex' },
        { ...good, replyTo: 'A'.repeat(32) },
        [good],
        'a string',
        42,
        null
      ]
      for (const body of bad) {
        const res = await call(api, 'POST', '/v1/messages', { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
        assertError(res, 400, 'INVALID_REQUEST')
      }
      assert.equal(json(await call(api, 'GET', '/v1/status')).queued, 0)
    })

    it('refuses what the node refuses with 400 INVALID_ARGUMENT', async () => {
      // within the schema, beyond the node's limits: TTL over 30 days, a body over 64 KiB of UTF-8
      assertError(await call(api, 'POST', '/v1/messages', { body: { ...good, ttlSeconds: 31 * 24 * 3600 } }), 400, 'INVALID_ARGUMENT')
      assertError(await call(api, 'POST', '/v1/messages', { body: { ...good, body: 'é'.repeat(40_000) } }), 400, 'INVALID_ARGUMENT')
      assertError(await call(api, 'POST', '/v1/invites', { body: { ref: 'é'.repeat(200) } }), 400, 'INVALID_ARGUMENT')
      // member ids and user references are separate names: a reference may not look like an id
      assertError(await call(api, 'POST', '/v1/invites', { body: { ref: memberId } }), 400, 'INVALID_ARGUMENT')
      assertError(await call(api, 'POST', '/v1/invites', { body: { ref: 'm0123456789abcdef' } }), 400, 'INVALID_ARGUMENT')
      assert.equal((await call(api, 'POST', '/v1/invites', { body: { ref: 'M0123456789ABCDEF' } })).statusCode, 201, 'another shape is a reference')
    })

    it('malformed JSON, an empty body, prototype poisoning: 400 INVALID_REQUEST', async () => {
      const headers = { 'content-type': 'application/json' }
      for (const payload of ['{"to": ["alice"], "subject": ', '{]', 'nul', '{"to":["alice"],"subject":"s","body":"b","__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '']) {
        assertError(await call(api, 'POST', '/v1/messages', { payload, headers }), 400, 'INVALID_REQUEST')
      }
    })

    it('a body over the limit: 413 BODY_TOO_LARGE', async () => {
      const res = await call(api, 'POST', '/v1/messages', { body: { ...good, body: 'x'.repeat(300 * 1024) } })
      assertError(res, 413, 'BODY_TOO_LARGE')
      const small = createSiteApi({ node: site, token: TOKEN, limits: { bodyLimit: 100 } })
      try {
        assertError(await call(small, 'POST', '/v1/invites', { body: { ref: 'r'.repeat(200) } }), 413, 'BODY_TOO_LARGE')
      } finally {
        await small.close()
      }
    })

    it('a body that is not JSON: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
        assertError(await call(api, 'POST', '/v1/messages', { payload: JSON.stringify(good), headers: { 'content-type': type } }), 415, 'UNSUPPORTED_MEDIA_TYPE')
      }
      assertError(await call(api, 'POST', '/v1/messages', { payload: JSON.stringify(good) }), 415, 'UNSUPPORTED_MEDIA_TYPE')
    })

    it('unknown members, messages and routes: 404 with stable codes', async () => {
      assertError(await call(api, 'POST', '/v1/messages', { body: { ...good, to: ['nobody'] } }), 404, 'UNKNOWN_MEMBER')
      assertError(await call(api, 'GET', `/v1/messages/${'0'.repeat(32)}`), 404, 'UNKNOWN_MESSAGE')
      assertError(await call(api, 'GET', '/v1/members/nobody'), 404, 'UNKNOWN_MEMBER')
      assertError(await call(api, 'DELETE', '/v1/members/nobody'), 404, 'UNKNOWN_MEMBER')
      assertError(await call(api, 'GET', '/v1/nothing'), 404, 'NOT_FOUND')
      assertError(await call(api, 'PUT', '/v1/messages'), 404, 'NOT_FOUND')
      assertError(await call(api, 'GET', '/v1/nothing', { token: false }), 401, 'UNAUTHORIZED')
    })

    it('a member without devices: 422 NO_DEVICES', async () => {
      const left = await member.leave(site.peerId)
      assert.equal(left.notified, true)
      assertError(await call(api, 'POST', '/v1/messages', { body: good }), 422, 'NO_DEVICES')
    })

    it('path tricks and very long ids', async () => {
      // (inject resolves %2e%2e like a browser: the socket test sends it raw)
      for (const path of ['/v1/members/..%2F..', '/v1/members/..%2F..%2Fmetrics', '/v1/members/alice%00', '/v1/members/%20', '/v1/members/alice%2F..%2F..%2Fmetrics']) {
        assertError(await call(api, 'GET', path), 404, 'UNKNOWN_MEMBER')
      }
      assertError(await call(api, 'DELETE', '/v1/members/..%2F..'), 404, 'UNKNOWN_MEMBER')
      assert.equal(json(await call(api, 'GET', '/v1/members')).members.length, 1)
      assertError(await call(api, 'GET', '/v1/members/%E0%A4%A'), 400, 'INVALID_REQUEST')
      assertError(await call(api, 'GET', `/v1/members/${'a'.repeat(257)}`), 400, 'INVALID_REQUEST')
      assertError(await call(api, 'GET', `/v1/members/${'a'.repeat(10_000)}`), 400, 'INVALID_REQUEST')
      assertError(await call(api, 'GET', `/v1/messages/${'0'.repeat(33)}`), 400, 'INVALID_REQUEST')
      assertError(await call(api, 'GET', '/v1/messages/..%2F..%2Fstatus'), 400, 'INVALID_REQUEST')
      assertError(await call(api, 'GET', `/v1/messages/${'A'.repeat(32)}`), 400, 'INVALID_REQUEST')
    })

    it('bad query strings on /v1/replies: 400 INVALID_REQUEST', async () => {
      for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'limit=1.5', 'limit=-1', 'limit=1&limit=2', 'after=rid:x', 'after=rp:0000000000000001:' + '0'.repeat(32), `after=${'a'.repeat(257)}`, 'other=1']) {
        assertError(await call(api, 'GET', `/v1/replies?${query}`), 400, 'INVALID_REQUEST')
      }
      // cursors are opaque: one the node did not make is refused by the node
      const forged = Buffer.from('rid:' + '0'.repeat(32)).toString('base64url')
      for (const query of ['after=zzz', 'after=a', `after=${forged}`, `after=${'a'.repeat(200)}`]) {
        assertError(await call(api, 'GET', `/v1/replies?${query}`), 400, 'INVALID_ARGUMENT')
      }
      assert.equal(json(await call(api, 'GET', '/v1/replies?limit=1000')).next, null)
    })

    it('bad invite bodies: 400 INVALID_REQUEST', async () => {
      for (const body of [{ ref: 1 }, { expiresInSeconds: -1 }, { expiresInSeconds: 'soon' }, { ref: 'a', other: 1 }, [], 'x']) {
        assertError(await call(api, 'POST', '/v1/invites', { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }), 400, 'INVALID_REQUEST')
      }
    })
  })

  describe('authentication', () => {
    it('refuses a missing, wrong or malformed token with 401 and WWW-Authenticate: Bearer', async () => {
      const cases: Array<Record<string, string>> = [
        {},
        { authorization: 'Bearer wrong' },
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
        { authorization: TOKEN },
        { authorization: 'Bearer' },
        { authorization: `Bearer ${TOKEN} extra` }
      ]
      for (const headers of cases) {
        for (const [method, url] of [['GET', '/v1/status'], ['POST', '/v1/messages'], ['GET', '/v1/members'], ['DELETE', '/v1/members/alice']] as const) {
          const res = await call(api, method, url, { token: false, headers, body: method === 'POST' ? { to: ['alice'], subject: 's', body: 'b' } : undefined })
          assertError(res, 401, 'UNAUTHORIZED')
          assert.equal(res.headers['www-authenticate'], 'Bearer')
          assert.ok(!res.body.includes(TOKEN))
        }
      }
      assert.equal((await member.inbox()).length, 0)
      assert.equal(json(await call(api, 'GET', '/v1/members')).members.length, 1)
      assert.equal((await call(api, 'GET', '/v1/status', { token: false, headers: { authorization: `bearer ${TOKEN}` } })).statusCode, 200)
    })
  })

  describe('over a real socket', () => {
    it('listens on 127.0.0.1 and answers fetch', async () => {
      const live = createSiteApi({ node: site, token: TOKEN })
      try {
        const address = await live.listen({ host: '127.0.0.1', port: 0 })
        assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/)
        const health = await fetch(`${address}/healthz`)
        assert.equal(health.status, 200)
        assert.equal((await health.json() as { role: string }).role, 'site')

        const denied = await fetch(`${address}/v1/status`)
        assert.equal(denied.status, 401)
        assert.equal(denied.headers.get('www-authenticate'), 'Bearer')
        assert.equal((await denied.json() as { error: { code: string } }).error.code, 'UNAUTHORIZED')

        const sent = await fetch(`${address}/v1/messages`, {
          method: 'POST',
          headers: { ...AUTH, 'content-type': 'application/json', 'idempotency-key': 'socket-1' },
          body: JSON.stringify({ to: ['alice'], subject: 'Over TCP', body: 'hi' })
        })
        assert.equal(sent.status, 202)
        const { id } = await sent.json() as { id: string }
        await waitForState(site, id, 'delivered')
        const status = await fetch(`${address}/v1/messages/${id}`, { headers: AUTH })
        assert.equal((await status.json() as { devices: Array<{ state: string }> }).devices[0].state, 'delivered')

        const bad = await fetch(`${address}/v1/messages`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"to":' })
        assert.equal(bad.status, 400)
        assert.equal((await bad.json() as { error: { code: string } }).error.code, 'INVALID_REQUEST')

        // raw paths, not normalized by a URL parser on the way
        for (const [path, status, code] of [
          ['/v1/members/%2e%2e', 404, 'UNKNOWN_MEMBER'],
          ['/v1/members/..%2F..%2Fmetrics', 404, 'UNKNOWN_MEMBER'],
          ['/v1/members/../../metrics', 404, 'NOT_FOUND'],
          ['/v1/members/../members', 404, 'NOT_FOUND'],
          ['//v1//members', 404, 'NOT_FOUND'],
          [`/v1/members/${'a'.repeat(12_000)}`, 400, 'INVALID_REQUEST']
        ] as const) {
          assertError(await rawGet(address, path), status, code)
        }

        const doc = await fetch(`${address}/openapi.json`)
        assert.equal(doc.status, 200)
        assert.match((await doc.json() as { openapi: string }).openapi, /^3\./)
      } finally {
        await live.close()
      }
    })
  })
})
