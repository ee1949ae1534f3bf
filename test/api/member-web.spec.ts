import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_EVENT_STREAMS, PAGE_CSP, WEB_ROOT, createMemberApi, openBackup, parseBackup } from '../../src/api/index.js'
import { loadEncryptionKey, loadIdentity } from '../../src/node/index.js'
import { TestNet } from '../support/nodes.js'
import { TOKEN, assertError, call, json, joinedPair, waitForState } from '../support/api.js'
import type { FastifyInstance } from 'fastify'
import type { MemberNode, SiteNode } from '../../src/node/index.js'

/**
 * What the member API adds for the inbox page (src/web): the page's files at /, the event
 * stream of new messages, marking read and unread, and the identity backup. The page itself
 * is driven in Chromium by test/web/.
 */

/** A reader of a text/event-stream: next(count) resolves with the next `count` events as { event, data } (fewer if the stream ends). */
function eventReader (body: ReadableStream<Uint8Array>): { next: (count: number) => Promise<Array<{ event: string, data: string }>> } {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  return {
    async next (count) {
      const events: Array<{ event: string, data: string }> = []
      while (events.length < count) {
        const end = text.indexOf('\n\n')
        if (end < 0) {
          const { value, done } = await reader.read()
          if (done) break
          text += value
          continue
        }
        const block = text.slice(0, end)
        text = text.slice(end + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event !== undefined && data !== undefined) events.push({ event, data })
      }
      return events
    }
  }
}

describe('api: member routes of the inbox page', function () {
  this.timeout(60_000)
  let net: TestNet
  let site: SiteNode
  let member: MemberNode
  let api: FastifyInstance

  beforeEach(async () => {
    net = await TestNet.create()
    ;({ site, member } = await joinedPair(net))
    api = createMemberApi({ node: member, token: TOKEN, dataDir: net.path('member') })
  })

  afterEach(async () => {
    await api.close()
    await net.cleanup()
  })

  it('serves the page without a token, with a strict CSP and the other security headers', async () => {
    for (const [path, type, file] of [['/', 'text/html', 'index.html'], ['/main.js', 'text/javascript', 'main.js'], ['/inbox.css', 'text/css', 'inbox.css']]) {
      const res = await call(api, 'GET', path, { token: false })
      assert.equal(res.statusCode, 200, `${path}: ${res.body}`)
      assert.match(String(res.headers['content-type']), new RegExp(`^${type}; charset=utf-8$`))
      assert.equal(res.body, await readFile(join(WEB_ROOT, file), 'utf8'))
      assert.equal(res.headers['content-security-policy'], PAGE_CSP)
      assert.equal(res.headers['x-content-type-options'], 'nosniff')
      assert.equal(res.headers['referrer-policy'], 'no-referrer')
    }
    assert.match(PAGE_CSP, /default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'/)
    const html = (await call(api, 'GET', '/', { token: false })).body
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline script')
    assert.ok(!/\son[a-z]+=/i.test(html), 'no inline event handler')
    assert.ok(!/\sstyle=/i.test(html), 'no inline style')
    // the Host check stands before the page as before every route
    assertError(await call(api, 'GET', '/', { token: false, headers: { host: 'rebound.example' } }), 421, 'HOST_NOT_ALLOWED')
    // anything else still needs the token
    assertError(await call(api, 'GET', '/index.html', { token: false }), 401, 'UNAUTHORIZED')
  })

  it('GET /v1/events streams each message the device receives, needs the token, and ends when the API closes', async () => {
    await api.listen({ host: '127.0.0.1', port: 0 })
    const url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}/v1/events`
    assert.equal((await fetch(url)).status, 401)
    assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401)
    const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    assert.equal(response.headers.get('cache-control'), 'no-store')
    const events = eventReader(response.body!)
    const [ready] = await events.next(1)
    assert.deepEqual(ready, { event: 'ready', data: '{}' })
    const sent = await site.send({ to: ['alice'], subject: 'Streamed', body: 'over **SSE**' })
    const [event] = await events.next(1)
    assert.equal(event.event, 'message')
    const message = JSON.parse(event.data)
    assert.equal(message.id, sent.id)
    assert.equal(message.site, site.peerId)
    assert.equal(message.subject, 'Streamed')
    assert.equal(message.body, 'over **SSE**')
    assert.equal(message.read, false)
    assert.deepEqual(Object.keys(message).sort(), ['attachments', 'body', 'contentType', 'created', 'expires', 'group', 'id', 'read', 'received', 'replyTo', 'seq', 'site', 'siteName', 'subject', 'thread'])
    // a site stopped while its delivery waits for the receipt takes a minute to stop: let it settle first
    await waitForState(site, sent.id, 'delivered')
    const started = Date.now()
    await api.close()
    assert.ok(Date.now() - started < 5000, 'an open stream does not hold the API open')
    assert.deepEqual(await events.next(1), [], 'the stream ended')
  })

  it(`GET /v1/events: at most ${MAX_EVENT_STREAMS} streams at once (429 RATE_LIMITED past it)`, async () => {
    await api.listen({ host: '127.0.0.1', port: 0 })
    const url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}/v1/events`
    const headers = { authorization: `Bearer ${TOKEN}` }
    const streams = await Promise.all(Array.from({ length: MAX_EVENT_STREAMS }, async () => await fetch(url, { headers })))
    assert.ok(streams.every(s => s.status === 200))
    const over = await fetch(url, { headers })
    assert.equal(over.status, 429)
    assert.equal((await over.json() as { error: { code: string } }).error.code, 'RATE_LIMITED')
    await streams[0].body!.cancel()
    // the closed stream's place is free again
    let again: Response | undefined
    for (let i = 0; i < 50 && again?.status !== 200; i++) {
      await again?.body?.cancel()
      again = await fetch(url, { headers })
      if (again.status !== 200) await new Promise(resolve => setTimeout(resolve, 20))
    }
    assert.equal(again?.status, 200)
  })

  it('PUT /v1/inbox/:id/read marks a message unread and read again', async () => {
    const sent = await site.send({ to: ['alice'], subject: 'To read', body: 'b' })
    await waitForState(site, sent.id, 'delivered')
    assert.equal((await call(api, 'GET', `/v1/inbox/${sent.id}`)).statusCode, 200)
    const res = await call(api, 'PUT', `/v1/inbox/${sent.id}/read?site=${site.peerId}`, { body: { read: false } })
    assert.equal(res.statusCode, 204)
    assert.equal(json(await call(api, 'GET', '/v1/inbox?unread=true')).messages.length, 1)
    assert.equal((await call(api, 'PUT', `/v1/inbox/${sent.id}/read`, { body: { read: true } })).statusCode, 204)
    assert.equal(json(await call(api, 'GET', '/v1/inbox?unread=true')).messages.length, 0)
    assertError(await call(api, 'PUT', `/v1/inbox/${'0'.repeat(32)}/read`, { body: { read: true } }), 404, 'UNKNOWN_MESSAGE')
    assertError(await call(api, 'PUT', `/v1/inbox/${sent.id}/read?site=12D3KooWNotTheSite`, { body: { read: true } }), 404, 'UNKNOWN_MESSAGE')
    for (const body of [{}, { read: 'yes' }, { read: true, extra: 1 }]) assertError(await call(api, 'PUT', `/v1/inbox/${sent.id}/read`, { body }), 400, 'INVALID_REQUEST')
    assertError(await call(api, 'PUT', '/v1/inbox/nothex/read', { body: { read: true } }), 400, 'INVALID_REQUEST')
  })

  it('POST /v1/identity/backup seals the data folder\'s keys and the joined sites under the passphrase', async () => {
    const passphrase = 'a passphrase for the test'
    const res = await call(api, 'POST', '/v1/identity/backup', { body: { passphrase } })
    assert.equal(res.statusCode, 200, res.body)
    const signer = await loadIdentity(net.path('member'))
    const encryption = await loadEncryptionKey(net.path('member'))
    for (const key of [signer.seed, encryption.privateKey]) {
      for (const encoding of ['base64url', 'base64', 'hex'] as const) assert.ok(!res.body.includes(Buffer.from(key).toString(encoding)), 'no key in clear')
    }
    assert.ok(!res.body.includes(passphrase))
    const backup = parseBackup(res.body)
    assert.equal(backup.peerId, member.peerId)
    const opened = await openBackup(backup, passphrase)
    assert.deepEqual(opened.ed25519, signer.seed)
    assert.deepEqual(opened.x25519, encryption.privateKey)
    assert.deepEqual(opened.sites, await member.sites())
    assert.deepEqual(opened.sites.map(s => s.peerId), [site.peerId])

    assertError(await call(api, 'POST', '/v1/identity/backup', { token: false, body: { passphrase } }), 401, 'UNAUTHORIZED')
    for (const body of [{}, { passphrase: 'short' }, { passphrase: 'x'.repeat(1025) }, { passphrase: 12345678 }, { passphrase, extra: 1 }]) {
      assertError(await call(api, 'POST', '/v1/identity/backup', { body }), 400, 'INVALID_REQUEST')
    }
    const withoutFolder = createMemberApi({ node: member, token: TOKEN })
    try {
      assertError(await call(withoutFolder, 'POST', '/v1/identity/backup', { body: { passphrase } }), 404, 'NOT_FOUND')
    } finally {
      await withoutFolder.close()
    }
    // a data folder that is not the node's is never backed up as if it were
    const wrong = createMemberApi({ node: member, token: TOKEN, dataDir: net.path('site') })
    try {
      assertError(await call(wrong, 'POST', '/v1/identity/backup', { body: { passphrase }, serverError: true }), 500, 'INTERNAL')
    } finally {
      await wrong.close()
    }
  })
})
