import assert from 'node:assert/strict'
import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { createMemberApi } from '../../src/api/index.js'
import { waitFor } from '../../src/cli/time.js'
import { loadEncryptionKey } from '../../src/node/index.js'
import { PROTOCOL_DELIVER } from '../../src/protocol/index.js'
import { TestNet } from '../support/nodes.js'
import { Rogue, envelope, pushEnvelope, pushEpoch, receipts } from '../support/rogue.js'
import { AUTH, TOKEN, assertError, call, json, waitForState } from '../support/api.js'
import type { FastifyInstance } from 'fastify'
import type { MemberNode } from '../../src/node/member-node.js'
import type { SiteNode } from '../../src/node/site-node.js'

describe('api: member', () => {
  let net: TestNet
  let site: SiteNode
  let member: MemberNode
  let api: FastifyInstance

  beforeEach(async () => {
    net = await TestNet.create()
    site = await net.site('site')
    member = await net.member('member')
    api = createMemberApi({ node: member, token: TOKEN })
  })

  afterEach(async () => {
    await api.close()
    await net.cleanup()
  })

  async function join (ref = 'alice'): Promise<{ site: string, siteName: string, member: string }> {
    const invite = await site.createInvite({ ref })
    const res = await call(api, 'POST', '/v1/join', { body: { token: invite.token } })
    assert.equal(res.statusCode, 201, res.body)
    return json(res)
  }

  /** Sends from the site and waits until the member has it. */
  async function receive (subject: string): Promise<string> {
    const sent = await site.send({ to: ['alice'], subject, body: `body of ${subject}` })
    await waitForState(site, sent.id, 'delivered')
    return sent.id
  }

  it('GET /healthz (which names no peer) and GET /v1/status', async () => {
    const health = await call(api, 'GET', '/healthz', { token: false })
    assert.deepEqual(json(health), { status: 'ok', role: 'member' })
    assert.ok(!health.body.includes(member.peerId), health.body)
    const before = json(await call(api, 'GET', '/v1/status'))
    assert.equal(before.role, 'member')
    assert.equal(before.peerId, member.peerId)
    assert.ok(before.listen.length > 0)
    assert.equal(typeof before.connectedPeers, 'number')
    assert.equal(before.sites, 0)
    assert.equal(before.unread, 0)
    await join()
    await receive('one')
    const after = json(await call(api, 'GET', '/v1/status'))
    assert.equal(after.sites, 1)
    assert.equal(after.unread, 1)
    assert.ok(after.connectedPeers >= 1)
  })

  it('POST /v1/join joins; a reused or broken token is 422 with the protocol code', async () => {
    const invite = await site.createInvite({ ref: 'alice' })
    const res = await call(api, 'POST', '/v1/join', { body: { token: invite.token } })
    assert.equal(res.statusCode, 201)
    const joined = json(res)
    assert.equal(joined.site, site.peerId)
    assert.equal(joined.siteName, 'site')
    assert.match(joined.member, /^m[0-9a-f]{16}$/)

    const other = await net.member('other')
    const otherApi = createMemberApi({ node: other, token: TOKEN })
    try {
      assertError(await call(otherApi, 'POST', '/v1/join', { body: { token: invite.token } }), 422, 'INVITE_USED')
      assertError(await call(otherApi, 'POST', '/v1/join', { body: { token: 'garbage' } }), 422, 'BAD_TOKEN')
      assertError(await call(otherApi, 'POST', '/v1/join', { body: { token: 'tmtp1:AAAA' } }), 422, 'BAD_TOKEN')
      assertError(await call(otherApi, 'POST', '/v1/join', { body: { token: 'tmtp9:AAAA' } }), 422, 'UNSUPPORTED_VERSION')
      const expired = await site.createInvite({ expiresInMs: 1 })
      await new Promise(resolve => setTimeout(resolve, 10))
      assertError(await call(otherApi, 'POST', '/v1/join', { body: { token: expired.token } }), 422, 'EXPIRED')
      // a token signed by someone else, for this site: the signature does not verify
      const forged = invite.token.slice(0, -4) + (invite.token.endsWith('AAAA') ? 'BBBB' : 'AAAA')
      const refused = await call(otherApi, 'POST', '/v1/join', { body: { token: forged } })
      assert.equal(refused.statusCode, 422)
      assert.ok(['BAD_SIGNATURE', 'BAD_TOKEN'].includes(json(refused).error.code), refused.body)
    } finally {
      await otherApi.close()
    }
    for (const body of [{}, { token: 1 }, { token: '' }, { token: 'x'.repeat(8193) }, { token: 't', extra: 1 }]) {
      assertError(await call(api, 'POST', '/v1/join', { body }), 400, 'INVALID_REQUEST')
    }
    assertError(await call(api, 'POST', '/v1/join', { payload: '{"token":', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_REQUEST')
    assertError(await call(api, 'POST', '/v1/join', { payload: 'token=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  it('GET /v1/sites and DELETE /v1/sites/:peerId (leave)', async () => {
    await join()
    const sites = json(await call(api, 'GET', '/v1/sites')).sites
    assert.equal(sites.length, 1)
    assert.equal(sites[0].peerId, site.peerId)
    assert.equal(sites[0].name, 'site')
    assert.equal(sites[0].left, undefined)
    const left = await call(api, 'DELETE', `/v1/sites/${site.peerId}`)
    assert.equal(left.statusCode, 200)
    assert.deepEqual(json(left), { site: site.peerId, notified: true, code: 'OK' })
    const after = json(await call(api, 'GET', '/v1/sites')).sites
    assert.equal(typeof after[0].left, 'number')
    assert.deepEqual(json(await call(api, 'GET', '/v1/blocks')).blocks.map((b: { peer: string }) => b.peer), [site.peerId])
    assert.equal(json(await call(api, 'GET', '/v1/status')).sites, 0)
    assertError(await call(api, 'DELETE', '/v1/sites/12D3KooWNotASiteOfOurs'), 404, 'UNKNOWN_SITE')
    assertError(await call(api, 'DELETE', '/v1/sites/..%2F..'), 400, 'INVALID_REQUEST')
    assertError(await call(api, 'DELETE', `/v1/sites/${'a'.repeat(200)}`), 400, 'INVALID_REQUEST')
  })

  it('GET, POST /v1/blocks and DELETE /v1/blocks/:peer', async () => {
    const res = await call(api, 'POST', '/v1/blocks', { body: { peer: site.peerId, reason: 'spam' } })
    assert.equal(res.statusCode, 204)
    assert.equal(res.body, '')
    const blocks = json(await call(api, 'GET', '/v1/blocks')).blocks
    assert.equal(blocks.length, 1)
    assert.equal(blocks[0].peer, site.peerId)
    assert.equal(blocks[0].reason, 'spam')
    assert.equal(typeof blocks[0].at, 'number')
    // a blocked site cannot be joined
    const invite = await site.createInvite()
    assertError(await call(api, 'POST', '/v1/join', { body: { token: invite.token } }), 422, 'BLOCKED')
    assert.equal((await call(api, 'DELETE', `/v1/blocks/${site.peerId}`)).statusCode, 204)
    assert.equal((await call(api, 'DELETE', `/v1/blocks/${site.peerId}`)).statusCode, 204, 'unblocking twice is fine')
    assert.deepEqual(json(await call(api, 'GET', '/v1/blocks')).blocks, [])
    assert.equal((await call(api, 'POST', '/v1/join', { body: { token: invite.token } })).statusCode, 201)

    assertError(await call(api, 'POST', '/v1/blocks', { body: { peer: 'abc' } }), 400, 'INVALID_ARGUMENT')
    for (const body of [{}, { peer: 1 }, { peer: '' }, { peer: 'a\r\nb' }, { peer: site.peerId, reason: 'r'.repeat(257) }, { peer: site.peerId, other: true }]) {
      assertError(await call(api, 'POST', '/v1/blocks', { body }), 400, 'INVALID_REQUEST')
    }
    assertError(await call(api, 'DELETE', '/v1/blocks/a%0D%0Ab'), 400, 'INVALID_REQUEST')
  })

  it('GET /v1/inbox with filters, GET /v1/inbox/:id marks read', async () => {
    await join()
    const first = await receive('first')
    const second = await receive('second')
    const all = json(await call(api, 'GET', '/v1/inbox')).messages
    assert.deepEqual(all.map((m: { id: string }) => m.id), [first, second])
    assert.equal(all[0].subject, 'first')
    assert.equal(all[0].body, 'body of first')
    assert.equal(all[0].site, site.peerId)
    assert.equal(all[0].siteName, 'site')
    assert.equal(all[0].read, false)

    const opened = await call(api, 'GET', `/v1/inbox/${first}`)
    assert.equal(opened.statusCode, 200)
    assert.equal(json(opened).read, true)
    assert.equal(json(opened).body, 'body of first')
    const unread = json(await call(api, 'GET', '/v1/inbox?unread=true')).messages
    assert.deepEqual(unread.map((m: { id: string }) => m.id), [second])
    assert.equal(json(await call(api, 'GET', '/v1/inbox?unread=false')).messages.length, 2)
    assert.equal(json(await call(api, 'GET', `/v1/inbox?site=${site.peerId}`)).messages.length, 2)
    assert.equal(json(await call(api, 'GET', '/v1/inbox?site=12D3KooWSomeoneElse')).messages.length, 0)
    assert.equal(json(await call(api, 'GET', '/v1/status')).unread, 1)

    for (const query of ['unread=yes', 'unread=1', 'site=', 'site=a%0Ab', 'unread=true&unread=false', 'other=1']) {
      assertError(await call(api, 'GET', `/v1/inbox?${query}`), 400, 'INVALID_REQUEST')
    }
    assertError(await call(api, 'GET', `/v1/inbox/${'f'.repeat(32)}`), 404, 'UNKNOWN_MESSAGE')
    assertError(await call(api, 'GET', '/v1/inbox/..%2F..'), 400, 'INVALID_REQUEST')
    assertError(await call(api, 'GET', `/v1/inbox/${'f'.repeat(5000)}`), 400, 'INVALID_REQUEST')
  })

  it('POST /v1/inbox/:id/reply and GET /v1/posts/:id', async () => {
    await join()
    const id = await receive('Question')
    const res = await call(api, 'POST', `/v1/inbox/${id}/reply`, { body: { body: 'Answer' } })
    assert.equal(res.statusCode, 202)
    const post = json(res)
    assert.match(post.id, /^[0-9a-f]{32}$/)
    assert.equal(post.site, site.peerId)
    assert.equal(post.replyTo, id)
    assert.equal(post.subject, 'Re: Question')
    assert.ok(['queued', 'delivered'].includes(post.state))
    await waitFor('the reply delivered', async () => json(await call(api, 'GET', `/v1/posts/${post.id as string}`)).state === 'delivered')
    const replies = await site.replies()
    assert.deepEqual(replies.map(r => [r.id, r.body, r.replyTo]), [[post.id, 'Answer', id]])

    const withSubject = json(await call(api, 'POST', `/v1/inbox/${id}/reply`, { body: { body: 'More', subject: 'Custom' } }))
    assert.equal(withSubject.subject, 'Custom')

    assertError(await call(api, 'POST', `/v1/inbox/${'e'.repeat(32)}/reply`, { body: { body: 'x' } }), 404, 'UNKNOWN_MESSAGE')
    assertError(await call(api, 'GET', `/v1/posts/${'e'.repeat(32)}`), 404, 'UNKNOWN_MESSAGE')
    assertError(await call(api, 'GET', '/v1/posts/nothex'), 400, 'INVALID_REQUEST')
    for (const body of [{}, { body: 1 }, { body: 'x', subject: 2 }, { body: 'x', extra: 1 }, { body: 'x'.repeat(65537) }]) {
      assertError(await call(api, 'POST', `/v1/inbox/${id}/reply`, { body }), 400, 'INVALID_REQUEST')
    }
    assertError(await call(api, 'POST', `/v1/inbox/${id}/reply`, { body: { body: 'é'.repeat(40_000) } }), 400, 'INVALID_ARGUMENT')
    assertError(await call(api, 'POST', `/v1/inbox/${id}/reply`, { body: { body: 'x'.repeat(300 * 1024) } }), 413, 'BODY_TOO_LARGE')
  })

  it('an id two sites sent: GET /v1/inbox/:id and its reply name the site (?site=), else 400 INVALID_ARGUMENT naming both', async () => {
    await join()
    const id = await receive('Question')
    // a second joined site (a rogue, which may choose its ids) sends a message under the same id
    const rogue = await Rogue.start()
    try {
      await rogue.actAsSite()
      await member.join(rogue.invite())
      const epoch = await rogue.epoch(member.peerId, (await loadEncryptionKey(net.path('member'))).publicKey)
      const same = envelope(epoch, { sender: rogue.peerId, recipient: member.peerId, id: uint8ArrayFromString(id, 'base16') })
      assert.equal(receipts(await rogue.exchange(member, PROTOCOL_DELIVER, Uint8Array.from([...pushEpoch(epoch.signed), ...pushEnvelope(same)]))).acks, 1)

      const ambiguous = await call(api, 'GET', `/v1/inbox/${id}`)
      assertError(ambiguous, 400, 'INVALID_ARGUMENT')
      for (const peer of [site.peerId, rogue.peerId]) assert.ok(json(ambiguous).error.message.includes(peer), ambiguous.body)
      assert.equal(json(await call(api, 'GET', `/v1/inbox/${id}?site=${site.peerId}`)).subject, 'Question')
      assert.equal(json(await call(api, 'GET', `/v1/inbox/${id}?site=${rogue.peerId}`)).subject, 'from the rogue')
      assertError(await call(api, 'GET', `/v1/inbox/${id}?site=12D3KooWSomeoneElse`), 404, 'UNKNOWN_MESSAGE')
      for (const query of ['site=', 'site=a%0Ab', `site=${site.peerId}&site=${rogue.peerId}`, 'other=1']) {
        assertError(await call(api, 'GET', `/v1/inbox/${id}?${query}`), 400, 'INVALID_REQUEST')
        assertError(await call(api, 'POST', `/v1/inbox/${id}/reply?${query}`, { body: { body: 'x' } }), 400, 'INVALID_REQUEST')
      }

      assertError(await call(api, 'POST', `/v1/inbox/${id}/reply`, { body: { body: 'which?' } }), 400, 'INVALID_ARGUMENT')
      const res = await call(api, 'POST', `/v1/inbox/${id}/reply?site=${site.peerId}`, { body: { body: 'Answer' } })
      assert.equal(res.statusCode, 202, res.body)
      const post = json(res)
      assert.deepEqual([post.site, post.replyTo, post.subject], [site.peerId, id, 'Re: Question'])
      await waitFor('the reply at the site', async () => (await site.replies()).some(r => r.id === post.id && r.replyTo === id))
    } finally {
      await rogue.stop()
    }
  })

  it('refuses requests without the token', async () => {
    for (const [method, url] of [['GET', '/v1/status'], ['GET', '/v1/inbox'], ['POST', '/v1/join'], ['GET', '/v1/sites'], ['POST', '/v1/blocks'], ['DELETE', `/v1/blocks/${site.peerId}`]] as const) {
      const res = await call(api, method, url, { token: false })
      assertError(res, 401, 'UNAUTHORIZED')
      assert.equal(res.headers['www-authenticate'], 'Bearer')
      assertError(await call(api, method, url, { token: 'wrong-token-0123456789' }), 401, 'UNAUTHORIZED')
    }
    assert.equal(AUTH.authorization, `Bearer ${TOKEN}`)
  })

  it('listens on a real socket', async () => {
    const live = createMemberApi({ node: member, token: TOKEN })
    try {
      const address = await live.listen({ host: '127.0.0.1', port: 0 })
      const invite = await site.createInvite({ ref: 'alice' })
      const res = await fetch(`${address}/v1/join`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ token: invite.token }) })
      assert.equal(res.status, 201)
      assert.equal((await res.json() as { site: string }).site, site.peerId)
      const status = await fetch(`${address}/v1/status`, { headers: AUTH })
      assert.equal((await status.json() as { sites: number }).sites, 1)
    } finally {
      await live.close()
    }
  })
})
