import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createSiteApi, signWebhook, verifyWebhookSignature, WebhookDispatcher } from '../../src/api/index.js'
import { setTimeout as delay } from 'node:timers/promises'
import { concurrently, waitFor } from '../../src/cli/time.js'
import type { BackendJournal } from '../../src/node/index.js'
import { TestNet } from '../support/nodes.js'
import { TOKEN, assertError, call, joinedPair, json, waitForState } from '../support/api.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from '../../src/store/database.js'
import { EventJournal, type JournalEvent } from '../../src/store/event-journal.js'
import type { FastifyInstance } from 'fastify'

const SECRET = 'webhook-secret-0123456789abcdef'
/** Webhooks read the site node's event journal. */
const JOURNAL = { eventJournal: true }
/** Reply quotas (src/node/defaults.ts) that let one member post 10,000 replies at once. */
const FLOOD_QUOTA = { repliesPerMinute: 1_000_000, repliesPerMinutePerMember: 1_000_000, replyBytesPerMember: 1024 ** 3 }

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
  /** While true, every request is answered 503 (the backend is down). */
  down = false
  private readonly server: Server
  url = ''

  constructor () {
    this.server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', chunk => { body += chunk })
      req.on('end', () => {
        const status = this.down ? 503 : this.statuses.shift() ?? 200
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
    const { site, member, memberId } = await joinedPair(net, 'alice', JOURNAL)
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
    const { site } = await joinedPair(net, 'alice', JOURNAL)
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
    const site = await net.site('site', JOURNAL)
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
    const { site } = await joinedPair(net, 'alice', JOURNAL)
    api = createSiteApi({ node: site, token: TOKEN, webhook: { url: `${receiver.url}?key=abc123`, secret: SECRET } })
    const res = await call(api, 'GET', '/v1/webhook')
    assert.equal(json(res).url, receiver.url)
    assert.ok(!res.body.includes(SECRET))
    assert.ok(!res.body.includes('abc123'))
    assertError(await call(api, 'GET', '/v1/webhook', { token: false }), 401, 'UNAUTHORIZED')
  })

  it('one member\'s flood of 10,000 replies while the endpoint is down, and a restart of the site, neither lose nor delay another member\'s events', async function () {
    this.timeout(180_000)
    // the flood is within this site's reply quota: what is tested is the webhooks' fairness
    const site = await net.site('site', { ...JOURNAL, ...FLOOD_QUOTA })
    const flood = await net.member('flood')
    await flood.join((await site.createInvite({ ref: 'flood' })).token)
    const others = await Promise.all(['o1', 'o2', 'o3'].map(async ref => {
      const member = await net.member(ref)
      await member.join((await site.createInvite({ ref })).token)
      return member
    }))
    receiver.down = true
    const hook = { url: receiver.url, secret: SECRET, retryBaseMs: 20, retryCapMs: 200 }
    api = createSiteApi({ node: site, token: TOKEN, webhook: hook })
    const first = await site.send({ to: ['flood'], subject: 'say something', body: '' })
    await waitForState(site, first.id, 'delivered')
    await concurrently(10_000, 64, async i => await flood.reply(first.id, { body: `reply ${i}` }))
    const journal = site.journal as BackendJournal
    await waitFor('10,000 replies journaled', async () => await journal.size() >= 10_001, 120_000)
    const sent = await site.send({ to: ['o1', 'o2', 'o3'], subject: 'for the others', body: '' })
    await waitFor('delivered to the others', async () => (await site.message(sent.id)).devices.every(d => d.state === 'delivered'))
    assert.ok(receiver.requests.length > 0 && receiver.accepted().length === 0, 'the endpoint was tried and refused everything')

    // the site restarts during the outage: the journal is on disk
    await api.close()
    await net.stop(site)
    const restarted = await net.site('site', { ...JOURNAL, ...FLOOD_QUOTA })
    api = createSiteApi({ node: restarted, token: TOKEN, webhook: hook })
    receiver.down = false
    const expected = others.map(o => `${sent.id}:${o.peerId}`)
    await waitFor('the other members\' events', async () => expected.every(k => receiver.accepted().some(e => `${e.id}:${e.device}` === k)), 30_000)
    const position = Math.max(...expected.map(k => receiver.accepted().findIndex(e => `${e.id}:${e.device}` === k)))
    assert.ok(position < 8, `the other members' events went out among the first requests after the outage (position ${position})`)
    // the flood drains behind them, each event once; the others' events are not sent again
    await waitFor('part of the flood sent', async () => receiver.accepted().filter(e => e.type === 'reply').length >= 200, 30_000)
    const accepted = receiver.accepted()
    assert.equal(new Set(accepted.map(e => e.eventId)).size, accepted.length, 'every event once')
    for (const k of expected) assert.equal(accepted.filter(e => `${e.id}:${e.device}` === k).length, 1, `${k} exactly once`)
    assert.ok(await (restarted.journal as BackendJournal).size() <= 10_001 - 200, 'what was sent left the journal')
  })

  it('reports a send with report: once by one broadcast event with the counts, and none per device', async () => {
    const { site, member } = await joinedPair(net, 'alice', JOURNAL)
    const laptop = await net.member('laptop')
    await laptop.join((await site.createInvite({ ref: 'alice' })).token)
    const siteApi = api = createSiteApi({ node: site, token: TOKEN, webhook: { url: receiver.url, secret: SECRET, retryBaseMs: 20 } })
    const sent = json(await call(siteApi, 'POST', '/v1/messages', { body: { to: ['alice'], subject: 'Hi', body: 'both devices', report: 'once' } }))
    await waitFor('the broadcast event', async () => receiver.accepted().some(e => e.type === 'broadcast'))
    // a per-device event would have been journaled in the batch of its delivery, before the last one's
    await waitFor('the journal empty', async () => json(await call(siteApi, 'GET', '/v1/webhook')).pending === 0)
    const events = receiver.accepted()
    assert.deepEqual(events.map(e => [e.type, e.id]), [['broadcast', sent.id]])
    const [event] = events
    assert.equal(event.devices, 2)
    assert.deepEqual(event.counts, { queued: 0, delivered: 2, expired: 0, rejected: 0, dropped: 0, replaced: 0 })
    assert.equal(event.created, sent.created)
    assert.ok(event.at >= event.created)
    assert.match(event.eventId, /^[0-9a-f]{32}$/)
    for (const d of [member, laptop]) assert.equal((await d.inbox()).filter(m => m.id === sent.id).length, 1)
  })

  it('refuses a webhook on a node that keeps no event journal', async () => {
    const { site } = await joinedPair(net)
    assert.throws(() => createSiteApi({ node: site, token: TOKEN, webhook: { url: receiver.url, secret: SECRET } }), { code: 'INVALID_ARGUMENT' })
  })

  describe('dispatcher', () => {
    let dispatcher: WebhookDispatcher | undefined
    let db: Database | undefined
    let journal: EventJournal
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tmtp-journal-'))
      db = await Database.open(join(dir, 'db'), { fsync: false })
      journal = new EventJournal(db)
    })
    afterEach(async () => {
      dispatcher?.stop()
      await db?.close()
      await rm(dir, { recursive: true, force: true })
    })

    const delivered = (id: string, member: string, at = Date.now()): JournalEvent => ({ type: 'delivered', id, device: `device-${member}`, member, created: at, at })

    it('abandons an event the backend refuses maxAttempts times (4xx), then sends the member\'s next; a down endpoint (5xx) abandons nothing', async () => {
      receiver.statuses.push(503, 503, 503, 503, 400, 400, 400)
      await db?.write(journal.append([delivered('a', 'm1', 1000), delivered('b', 'm1', 2000)].map(e => ({ ...e, at: Date.now() + e.at }))))
      dispatcher = new WebhookDispatcher({ url: receiver.url, secret: SECRET, maxAttempts: 3, retryBaseMs: 5, retryCapMs: 20 }, journal)
      dispatcher.wake()
      await waitFor('both handled', async () => (await dispatcher?.stats())?.pending === 0)
      assert.deepEqual(await dispatcher.stats(), { pending: 0, sent: 1, failedAttempts: 7, abandoned: 1 })
      assert.deepEqual(receiver.accepted().map(e => e.id), ['b'])
    })

    it('serves members in turn: a member\'s backlog delays another member\'s event by at most one request', async () => {
      const now = Date.now()
      await db?.write(journal.append(Array.from({ length: 300 }, (_, i) => delivered(`x${i}`, 'mflood', now + i))))
      await db?.write(journal.append([delivered('y', 'mquiet', now + 1000)]))
      dispatcher = new WebhookDispatcher({ url: receiver.url, secret: SECRET }, journal)
      dispatcher.wake()
      await waitFor('every event sent', async () => receiver.accepted().length === 301, 20_000)
      const order = receiver.accepted().map(e => e.id)
      assert.ok(order.indexOf('y') <= 1, `the quiet member's event went out at once (position ${order.indexOf('y')})`)
      assert.deepEqual(order.filter(id => id !== 'y'), Array.from({ length: 300 }, (_, i) => `x${i}`), 'a member\'s events in order')
      assert.equal(new Set(receiver.requests.map(r => r.headers['x-tmtp-event-id'])).size, 301)
      // the dispatcher drops an event from the journal once its answer is read, just after the receiver counted it
      await waitFor('the journal emptied', async () => await journal.size() === 0, 5_000)
    })

    it('stop() cancels the retry timer and the request in flight; the journal keeps the event', async () => {
      receiver.statuses.push(500)
      await db?.write(journal.append([delivered('a', 'm1')]))
      dispatcher = new WebhookDispatcher({ url: receiver.url, secret: SECRET, retryBaseMs: 50 }, journal)
      dispatcher.wake()
      await waitFor('first attempt', async () => receiver.requests.length === 1)
      dispatcher.stop()
      await delay(200)
      assert.equal(receiver.requests.length, 1, 'no retry after stop')
      dispatcher.wake()
      await delay(50)
      assert.equal(receiver.requests.length, 1, 'nothing sent after stop')
      assert.equal(await journal.size(), 1, 'the event waits in the journal for the next start')
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
