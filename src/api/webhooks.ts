import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { NodeError, type Reply, type SiteEvent, type SiteNode } from '../node/index.js'

/**
 * Webhooks: the site node POSTs its delivery receipts and the replies it receives to the
 * site's backend.
 *
 * Each event is a JSON object `{ type, id, eventId, at, ... }` where `type` is a settled
 * delivery state (SETTLED_STATES; per device: `member`, `device`, `created`, `code?`) or
 * reply (the reply's fields). `eventId` is the same on every attempt
 * of one event: receivers deduplicate on it.
 *
 * Signature scheme. Every request carries
 *
 *   X-TMTP-Timestamp: <unix seconds of this attempt>
 *   X-TMTP-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
 *   X-TMTP-Event-Id:  <eventId>
 *
 * A receiver recomputes the HMAC over the exact bytes of the body, compares in constant
 * time, and refuses timestamps more than a few minutes from its clock (replays).
 * `verifyWebhookSignature` does all three.
 *
 * Delivery: one request at a time in event order, until a 2xx answer. A failed attempt
 * (network error, timeout, any other status, redirects are not followed) is retried after an
 * exponential backoff with jitter; meanwhile later events wait. An event is abandoned after
 * `maxAttempts` or `maxAgeMs`; the queue holds at most `maxQueue` events, the oldest are
 * dropped beyond (WEBHOOK_DEFAULTS). The queue is in memory: events pending when the node stops are lost (the
 * message statuses and replies stay queryable through the API).
 */

/**
 * The defaults of a webhook's delivery, in one place (docs/api.md, "Webhooks", states them).
 * Node-level defaults are DEFAULTS (src/node/defaults.ts); these belong to the HTTP side.
 */
export const WEBHOOK_DEFAULTS = {
  /** Events kept waiting; beyond, the oldest is dropped: bounds memory while the backend is down. */
  maxQueue: 10_000,
  /** Attempts per event before it is abandoned: with the backoff below, 10 to 20 minutes of failures. */
  maxAttempts: 12,
  /** Age after which an event still not sent is abandoned (events wait behind a failing one). */
  maxAgeMs: 24 * 3600_000,
  /** Retry delays: from 1 s, doubling at each failure (with jitter) up to 5 minutes, so that a backend back from an outage hears from the node within minutes. */
  retryBaseMs: 1_000,
  retryCapMs: 5 * 60_000,
  /** Timeout of one request: a backend that answers slower counts as failed. */
  timeoutMs: 10_000,
  /** How far a receiver accepts a signature's timestamp from its clock (verifyWebhookSignature): replays older than this fail. */
  toleranceSeconds: 300
} as const

/** The shortest secret: it is the HMAC key that proves the events come from the node. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16

export interface WebhookConfig {
  /** http(s) URL that receives the events. */
  url: string
  /** HMAC key; at least MIN_WEBHOOK_SECRET_LENGTH characters. */
  secret: string
  /** The fields below default to WEBHOOK_DEFAULTS. */
  maxQueue?: number
  maxAttempts?: number
  maxAgeMs?: number
  retryBaseMs?: number
  retryCapMs?: number
  timeoutMs?: number
}

export type WebhookEventType = SiteEvent['type'] | 'reply'

export interface WebhookEvent {
  type: WebhookEventType
  /** The message id (for reply: the reply's id). */
  id: string
  /** Unique per event, stable across attempts. */
  eventId: string
  /** When the event happened, ms since the epoch. */
  at: number
  [field: string]: unknown
}

export interface WebhookStats {
  pending: number
  sent: number
  failedAttempts: number
  dropped: number
  abandoned: number
}

interface Pending {
  eventId: string
  body: string
  enqueued: number
  attempts: number
  nextAt: number
}

export const SIGNATURE_HEADER = 'x-tmtp-signature'
export const TIMESTAMP_HEADER = 'x-tmtp-timestamp'
export const EVENT_ID_HEADER = 'x-tmtp-event-id'

/** `sha256=<hex>` over `${timestamp}.${body}`. */
export function signWebhook (secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')
}

/**
 * For receivers (and tests): true when `signature` is the HMAC of this timestamp and body and
 * the timestamp is within `toleranceSeconds` of `now`.
 */
export function verifyWebhookSignature (secret: string, signature: string | undefined, timestamp: string | undefined, body: string, options: { toleranceSeconds?: number, now?: number } = {}): boolean {
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || !/^[0-9]{1,12}$/.test(timestamp)) return false
  const skew = Math.abs((options.now ?? Date.now()) / 1000 - Number(timestamp))
  if (skew > (options.toleranceSeconds ?? WEBHOOK_DEFAULTS.toleranceSeconds)) return false
  const expected = Buffer.from(signWebhook(secret, timestamp, body))
  const given = Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

function checkUrl (url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new NodeError('INVALID_ARGUMENT', 'webhook url is not a URL')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new NodeError('INVALID_ARGUMENT', 'webhook url must be http or https')
  if (parsed.username !== '' || parsed.password !== '') throw new NodeError('INVALID_ARGUMENT', 'webhook url must not carry credentials: the secret signs requests')
  return parsed
}

type Tunable = Exclude<keyof typeof WEBHOOK_DEFAULTS, 'toleranceSeconds'>

function positive (config: WebhookConfig, what: Tunable): number {
  const v = config[what] ?? WEBHOOK_DEFAULTS[what]
  if (!Number.isSafeInteger(v) || v <= 0) throw new NodeError('INVALID_ARGUMENT', `webhook ${what} must be a positive integer`)
  return v
}

export interface WebhookDispatcherOptions {
  log?: FastifyBaseLogger
  now?: () => number
  random?: () => number
}

/** The bounded, retrying sender of webhook events. */
export class WebhookDispatcher {
  readonly url: URL
  private readonly secret: string
  private readonly maxQueue: number
  private readonly maxAttempts: number
  private readonly maxAgeMs: number
  private readonly retryBaseMs: number
  private readonly retryCapMs: number
  private readonly timeoutMs: number
  private readonly log?: FastifyBaseLogger
  private readonly now: () => number
  private readonly random: () => number
  private readonly queue: Pending[] = []
  private readonly counts = { sent: 0, failedAttempts: 0, dropped: 0, abandoned: 0 }
  private timer?: NodeJS.Timeout
  private running = false
  private stopped = false
  private readonly abort = new AbortController()

  constructor (config: WebhookConfig, options: WebhookDispatcherOptions = {}) {
    this.url = checkUrl(config.url)
    if (typeof config.secret !== 'string' || config.secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
      throw new NodeError('INVALID_ARGUMENT', `webhook secret must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`)
    }
    this.secret = config.secret
    this.maxQueue = positive(config, 'maxQueue')
    this.maxAttempts = positive(config, 'maxAttempts')
    this.maxAgeMs = positive(config, 'maxAgeMs')
    this.retryBaseMs = positive(config, 'retryBaseMs')
    this.retryCapMs = positive(config, 'retryCapMs')
    this.timeoutMs = positive(config, 'timeoutMs')
    this.log = options.log
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
  }

  /** The URL without query or fragment, for display (a query may hold a credential). */
  get displayUrl (): string {
    return this.url.origin + this.url.pathname
  }

  stats (): WebhookStats {
    return { pending: this.queue.length, ...this.counts }
  }

  /** Queues an event (its eventId is set here); drops the oldest when the queue is full. */
  enqueue (event: Omit<WebhookEvent, 'eventId'>): void {
    if (this.stopped) return
    const eventId = randomBytes(16).toString('hex')
    const now = this.now()
    this.queue.push({ eventId, body: JSON.stringify({ ...event, eventId }), enqueued: now, attempts: 0, nextAt: now })
    while (this.queue.length > this.maxQueue) {
      // the head may be in flight: drop the oldest one that is not
      this.queue.splice(this.running && this.queue.length > 1 ? 1 : 0, 1)
      this.counts.dropped++
    }
    this.schedule(0)
  }

  private schedule (delayMs: number): void {
    if (this.stopped || this.running) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.run().catch(err => { this.log?.error({ err }, 'webhook dispatcher failed') }) }, delayMs)
    this.timer.unref()
  }

  private async run (): Promise<void> {
    if (this.running || this.stopped) return
    this.running = true
    let wait: number | undefined
    try {
      while (!this.stopped && this.queue.length > 0) {
        const head = this.queue[0]
        const now = this.now()
        if (head.nextAt > now) {
          wait = head.nextAt - now
          break
        }
        head.attempts++
        const ok = await this.post(head)
        if (this.stopped) return
        if (ok) {
          this.counts.sent++
          this.remove(head)
          continue
        }
        this.counts.failedAttempts++
        if (head.attempts >= this.maxAttempts || this.now() - head.enqueued >= this.maxAgeMs) {
          this.counts.abandoned++
          this.remove(head)
          this.log?.warn({ eventId: head.eventId, attempts: head.attempts }, 'webhook event abandoned')
          continue
        }
        head.nextAt = this.now() + this.delay(head.attempts)
      }
    } finally {
      this.running = false
    }
    if (wait !== undefined) this.schedule(wait)
  }

  private remove (entry: Pending): void {
    const i = this.queue.indexOf(entry)
    if (i >= 0) this.queue.splice(i, 1)
  }

  /** Exponential with equal jitter: half the ceiling plus a random half, so retries are neither in step nor immediate. */
  private delay (attempt: number): number {
    const ceiling = Math.min(this.retryCapMs, this.retryBaseMs * 2 ** Math.min(attempt - 1, 30))
    return Math.floor(ceiling / 2 + this.random() * ceiling / 2)
  }

  private async post (entry: Pending): Promise<boolean> {
    const timestamp = String(Math.floor(this.now() / 1000))
    // header values are fixed strings, digits and hex only: nothing from the event reaches a header
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'tmtp-webhooks/1',
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signWebhook(this.secret, timestamp, entry.body),
      [EVENT_ID_HEADER]: entry.eventId
    }
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers,
        body: entry.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)])
      })
      await response.body?.cancel().catch(() => {})
      if (response.status >= 200 && response.status < 300) return true
      this.log?.warn({ eventId: entry.eventId, status: response.status, attempt: entry.attempts }, 'webhook refused')
      return false
    } catch (err) {
      if (!this.stopped) this.log?.warn({ eventId: entry.eventId, err: (err as Error).message, attempt: entry.attempts }, 'webhook request failed')
      return false
    }
  }

  /** Cancels the timer and any request in flight; pending events are discarded. */
  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.abort.abort()
    this.queue.length = 0
  }
}

/** Forwards a site node's delivery events and replies to the dispatcher; returns the unsubscribe function. */
export function forwardSiteEvents (node: SiteNode, dispatcher: WebhookDispatcher): () => void {
  const onDelivery = (event: CustomEvent<SiteEvent>): void => {
    const { type, id, member, device, created, at, code } = event.detail
    dispatcher.enqueue({ type, id, member, device, created, at, ...(code === undefined ? {} : { code }) })
  }
  const onReply = (event: CustomEvent<Reply>): void => {
    const r = event.detail
    dispatcher.enqueue({
      type: 'reply',
      id: r.id,
      member: r.member,
      ref: r.ref,
      device: r.device,
      subject: r.subject,
      body: r.body,
      contentType: r.contentType,
      thread: r.thread,
      replyTo: r.replyTo,
      created: r.created,
      received: r.received,
      at: r.received
    })
  }
  node.addEventListener('delivery', onDelivery)
  node.addEventListener('reply', onReply)
  return () => {
    node.removeEventListener('delivery', onDelivery)
    node.removeEventListener('reply', onReply)
  }
}
