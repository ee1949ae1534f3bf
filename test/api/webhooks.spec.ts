import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createSiteApi, signWebhook, verifyWebhookSignature, WebhookDispatcher } from '../../src/api/index.js'
import { setTimeout as delay } from 'node:timers/promises'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'
import { TOKEN, assertError, call, joinedPair, json, waitForState } from '../support/api.js'
import type { FastifyInstance } from 'fastify'

const SECRET = 'webhook-secret-0123456789abcdef'

interface Received {
  headers: IncomingHttpHeaders
  rawHeaders: string[]
  body: string
  status: number
}

/** A local HTTP server that records every request and answers with the statuses queued, then 200. */
class Receiver {
  readonly requests: Received[] = []
  readonly statuses: number[] = []
  private readonly server: Server
  url = ''

  constructor () {
    this.server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', chunk => { body += chunk })
      req.on('end', () => {
        const status = this.statuses.shift() ?? 200
        this.requests.push({ headers: req.headers, rawHeaders: req.rawHeaders, body, status })
        res.writeHead(status, { 'content-type': 'text/plain' })
        res.end(status === 200 ? 'ok' : 'no')
      })
    })
  }

  async start (): Promise<void> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    const address = this.server.address()
    if (address === null || typeof address === 'string') throw new Error('no address')
    this.url = `http://127.0.0.1:${address.port}/hooks/tmtp`
  }

  async stop (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
  }

  /** Accepted events (answered 2xx), parsed. */
  accepted (): Array<Record<string, any>> {
    return this.requests.filter(r => r.status >= 200 && r.status < 300).map(r => JSON.parse(r.body))
  }
}

describe('api: webhooks', () => {
  let net: TestNet
  let receiver: Receiver
  let api: FastifyInstance | undefined

  beforeEach(async () => {
    net = await TestNet.create()
    receiver = new Receiver()
    await receiver.start()
  })

  afterEach(async () => {
    await api?.close()
    api = undefined
    await receiver.stop()
    await net.cleanup()
  })

  it('signs and posts a delivered event and a reply event', async () => {
    const { site, member, memberId } = await joinedPair(net)
    api = createSiteApi({ node: site, token: TOKEN, webhook: { url: receiver.url, secret: SECRET, retryBaseMs: 20 } })
    const sent = json(await call(api, 'POST', '/v1/messages', { body: { to: ['alice'], subject: 'Hi', body: 'there' } }))
    await waitForState(site, sent.id, 'delivered')
    await member.reply(sent.id, { body: 'thanks' })
    await waitFor('delivered and reply events', async () => receiver.accepted().length >= 2)

    for (const r of receiver.requests) {
      const timestamp = r.headers['x-tmtp-timestamp'] as string
      const signature = r.headers['x-tmtp-signature'] as string
      assert.match(timestamp, /^\d+$/)
      assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60)
      // the documented scheme, computed here independently
      const expected = 'sha256=' + createHmac('sha256', SECRET).update(`${timestamp}.${r.body}`).digest('hex')
      assert.equal(signature, expected)
      assert.ok(verifyWebhookSignature(SECRET, signature, timestamp, r.body))
      assert.ok(!verifyWebhookSignature(SECRET, signature, timestamp, r.body + ' '))
      assert.ok(!verifyWebhookSignature('another-secret-0123456789', signature, timestamp, r.body))
      assert.ok(!verifyWebhookSignature(SECRET, signature, timestamp, r.body, { now: Date.now() + 3600_000 }))
      assert.equal(r.headers['content-type'], 'application/json')
      assert.match(r.headers['x-tmtp-event-id'] as string, /^[0-9a-f]{32}$/)
      assert.ok(!r.body.includes(SECRET))
    }
    const [delivered, reply] = receiver.accepted()
    assert.equal(delivered.type, 'delivered')
    assert.equal(delivered.id, sent.id)
    assert.equal(delivered.member, memberId)
    assert.equal(delivered.device, member.peerId)
    assert.equal(typeof delivered.created, 'number')
    assert.ok(delivered.at >= delivered.created)
    assert.equal(delivered.eventId, receiver.requests[0].headers['x-tmtp-event-id'])
    assert.equal(reply.type, 'reply')
    assert.equal(reply.body, 'thanks')
    assert.equal(reply.replyTo, sent.id)
    assert.equal(reply.member, memberId)
    assert.equal(reply.ref, 'alice')
    assert.equal(typeof reply.at, 'number')

    const status = json(await call(api, 'GET', '/v1/webhook'))
    assert.equal(status.url, receiver.url)
    assert.equal(status.pending, 0)
    assert.equal(status.sent, 2)
    const metrics = (await call(api, 'GET', '/metrics')).body
    assert.match(metrics, /^tmtp_webhook_events_total\{result="sent"\} 2$/m)
  })

  it('retries with backoff until a 2xx: the event arrives once per delivered id', async () => {
    const { site } = await joinedPair(net)
    receiver.statuses.push(500, 500)
    api = createSiteApi({ node: site, token: TOKEN, webhook: { url: receiver.url, secret: SECRET, retryBaseMs: 20, retryCapMs: 100 } })
    const sent = json(await call(api, 'POST', '/v1/messages', { body: { to: ['alice'], subject: 'Retry', body: 'me' } }))
    await waitForState(site, sent.id, 'delivered')
    await waitFor('the event accepted', async () => receiver.accepted().length === 1)
    await delay(300)
    assert.equal(receiver.requests.length, 3, 'two refused attempts, then one accepted')
    assert.deepEqual(receiver.requests.map(r => r.status), [500, 500, 200])
    const ids = new Set(receiver.requests.map(r => r.headers['x-tmtp-event-id']))
    assert.equal(ids.size, 1, 'every attempt carries the same event id')
    const bodies = new Set(receiver.requests.map(r => r.body))
    assert.equal(bodies.size, 1, 'every attempt carries the same body')
    const accepted = receiver.accepted().filter(e => e.type === 'delivered')
    assert.deepEqual(accepted.map(e => e.id), [sent.id])
    const status = json(await call(api, 'GET', '/v1/webhook'))
    assert.equal(status.failedAttempts, 2)
    assert.equal(status.pending, 0)
  })

  it('nothing from event data reaches a header (CR/LF injection)', async () => {
    const evil = 'x\r\nX-Evil: 1'
    const site = await net.site('site')
    const member = await net.member('member')
    api = createSiteApi({ node: site, token: TOKEN, webhook: { url: receiver.url, secret: SECRET, retryBaseMs: 20 } })
    const invite = json(await call(api, 'POST', '/v1/invites', { body: { ref: evil } }))
    await member.join(invite.token)
    const sent = json(await call(api, 'POST', '/v1/messages', { body: { to: [evil], subject: evil, body: evil, topic: evil, contentType: evil } }))
    await waitForState(site, sent.id, 'delivered')
    await member.reply(sent.id, { body: evil, subject: evil })
    await waitFor('two events', async () => receiver.accepted().length >= 2)
    for (const r of receiver.requests) {
      assert.equal(r.headers['x-evil'], undefined)
      assert.deepEqual(Object.keys(r.headers).filter(h => h.startsWith('x-')).sort(), ['x-tmtp-event-id', 'x-tmtp-signature', 'x-tmtp-timestamp'])
      for (const value of r.rawHeaders) assert.ok(!/[\r\n]/.test(value))
      assert.ok(verifyWebhookSignature(SECRET, r.headers['x-tmtp-signature'] as string, r.headers['x-tmtp-timestamp'] as string, r.body))
    }
    const reply = receiver.accepted().find(e => e.type === 'reply')
    assert.equal(reply?.ref, evil, 'the data arrives intact, in the JSON body')
    assert.equal(reply?.subject, evil)
  })

  it('GET /v1/webhook never shows the secret nor the query string', async () => {
    const { site } = await joinedPair(net)
    api = createSiteApi({ node: site, token: TOKEN, webhook: { url: `${receiver.url}?key=abc123`, secret: SECRET } })
    const res = await call(api, 'GET', '/v1/webhook')
    assert.equal(json(res).url, receiver.url)
    assert.ok(!res.body.includes(SECRET))
    assert.ok(!res.body.includes('abc123'))
    assertError(await call(api, 'GET', '/v1/webhook', { token: false }), 401, 'UNAUTHORIZED')
  })

  describe('dispatcher', () => {
    let dispatcher: WebhookDispatcher | undefined
    afterEach(() => { dispatcher?.stop() })

    it('keeps a bounded queue: the oldest events are dropped and counted', async () => {
      // nothing listens on port 9 of loopback: every attempt fails at once
      dispatcher = new WebhookDispatcher({ url: 'http://127.0.0.1:9/', secret: SECRET, maxQueue: 3, retryBaseMs: 60_000 })
      for (let i = 0; i < 10; i++) dispatcher.enqueue({ type: 'delivered', id: String(i), at: i })
      const stats = dispatcher.stats()
      assert.equal(stats.pending, 3)
      assert.equal(stats.dropped, 7)
    })

    it('abandons an event after maxAttempts, then sends the next', async () => {
      receiver.statuses.push(500, 500, 500)
      dispatcher = new WebhookDispatcher({ url: receiver.url, secret: SECRET, maxAttempts: 3, retryBaseMs: 5, retryCapMs: 20 })
      dispatcher.enqueue({ type: 'delivered', id: 'a', at: 1 })
      dispatcher.enqueue({ type: 'delivered', id: 'b', at: 2 })
      await waitFor('both handled', async () => dispatcher?.stats().pending === 0)
      assert.deepEqual(dispatcher.stats(), { pending: 0, sent: 1, failedAttempts: 3, dropped: 0, abandoned: 1 })
      assert.deepEqual(receiver.accepted().map(e => e.id), ['b'])
    })

    it('stop() cancels the retry timer and the request in flight', async () => {
      receiver.statuses.push(500)
      dispatcher = new WebhookDispatcher({ url: receiver.url, secret: SECRET, retryBaseMs: 50 })
      dispatcher.enqueue({ type: 'delivered', id: 'a', at: 1 })
      await waitFor('first attempt', async () => receiver.requests.length === 1)
      dispatcher.stop()
      await delay(200)
      assert.equal(receiver.requests.length, 1, 'no retry after stop')
      dispatcher.enqueue({ type: 'delivered', id: 'b', at: 2 })
      await delay(50)
      assert.equal(receiver.requests.length, 1, 'nothing queued after stop')
    })

    it('signWebhook is HMAC-SHA256 over timestamp.body', () => {
      assert.equal(signWebhook('key', '1700000000', '{}'), 'sha256=' + createHmac('sha256', 'key').update('1700000000.{}').digest('hex'))
      assert.ok(!verifyWebhookSignature('key', 'sha256=00', '1700000000', '{}', { now: 1700000000_000 }))
      assert.ok(verifyWebhookSignature('key', signWebhook('key', '1700000000', '{}'), '1700000000', '{}', { now: 1700000000_000 }))
      assert.ok(!verifyWebhookSignature('key', signWebhook('key', '1700000000', '{}'), '1700000000\r\n', '{}', { now: 1700000000_000 }))
      assert.ok(!verifyWebhookSignature('key', undefined, '1700000000', '{}'))
    })
  })
})
