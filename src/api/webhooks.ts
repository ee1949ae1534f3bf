import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { NodeError, type BackendJournal, type JournalEntry, type SiteEvent, type SiteNode } from '../node/index.js'

/**
 * Webhooks: the site node POSTs its delivery receipts and the replies it receives to the
 * site's backend.
 *
 * Each event is a JSON object `{ type, id, eventId, at, ... }` where `type` is a settled
 * delivery state (SETTLED_STATES; per device: `member`, `device`, `created`, `code?`), reply
 * (the reply's fields) or broadcast (once for a send with `report: 'once'`, when every copy
 * settled: `created`, `devices`, `counts` by state; its copies have no events of their own).
 * `eventId` is the same on every attempt of one event, across restarts too: receivers
 * deduplicate on it.
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
 * Delivery. Events come from the node's journal (`SiteNode.journal`): written in the batch of
 * the change they report, they survive a restart, and an event leaves the journal only once
 * the backend answered 2xx (or it was abandoned). The journal keeps one queue per member and
 * the dispatcher serves members in turn, one event each, one request at a time: a member's
 * backlog of any size holds up another member's events by at most one request. A failed
 * attempt (network error, timeout, any other status; redirects are not followed) is retried
 * after an exponential backoff with jitter, while other members' events go on; after a few
 * failures in a row the endpoint is taken to be down and the dispatcher waits. An event is
 * abandoned after `maxAttempts` refusals of it (a 4xx other than 408 and 429: the backend will
 * not take this event) or after `maxAgeMs` (WEBHOOK_DEFAULTS); an endpoint that is down (no
 * answer, 5xx, 408, 429) refuses nothing, and its events wait for it.
 */

/**
 * The defaults of a webhook's delivery, in one place (docs/api.md, "Webhooks", states them).
 * Node-level defaults are DEFAULTS (src/node/defaults.ts); these belong to the HTTP side.
 */
export const WEBHOOK_DEFAULTS = {
  /** Refusals of one event (a 4xx other than 408 and 429) before it is abandoned; an endpoint that is down refuses nothing. */
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
  maxAttempts?: number
  maxAgeMs?: number
  retryBaseMs?: number
  retryCapMs?: number
  timeoutMs?: number
}

export type WebhookEventType = SiteEvent['type'] | 'reply' | 'broadcast'

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
  abandoned: number
}

/** An event's attempts so far (in memory: a restart gives every event a fresh count). */
interface Attempts {
  count: number
  nextAt: number
}

/** Events taken from the journal per round: one from each of that many members. */
const ROUND = 32

/** Failed attempts in a row after which the endpoint is taken to be down and the dispatcher waits. */
const DOWN_AFTER_FAILURES = 3

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

/**
 * Sends the events of a site node's journal to the backend, members in turn, until each is
 * answered 2xx (see the delivery rules above).
 */
export class WebhookDispatcher {
  readonly url: URL
  private readonly secret: string
  private readonly journal: BackendJournal
  private readonly maxAttempts: number
  private readonly maxAgeMs: number
  private readonly retryBaseMs: number
  private readonly retryCapMs: number
  private readonly timeoutMs: number
  private readonly log?: FastifyBaseLogger
  private readonly now: () => number
  private readonly random: () => number
  private readonly attempts = new Map<string, Attempts>()
  private readonly counts = { sent: 0, failedAttempts: 0, abandoned: 0 }
  /** The last member served: the next round starts after it. */
  private cursor?: string
  /** Failed attempts in a row, across members; the endpoint's backoff grows with it. */
  private failures = 0
  private timer?: NodeJS.Timeout
  private running = false
  private again = false
  private stopped = false
  private readonly abort = new AbortController()

  constructor (config: WebhookConfig, journal: BackendJournal, options: WebhookDispatcherOptions = {}) {
    this.url = checkUrl(config.url)
    if (typeof config.secret !== 'string' || config.secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
      throw new NodeError('INVALID_ARGUMENT', `webhook secret must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`)
    }
    this.secret = config.secret
    this.journal = journal
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

  async stats (): Promise<WebhookStats> {
    return { pending: await this.journal.size(), ...this.counts }
  }

  /** New events may be in the journal: send them now, unless the endpoint is being waited for. */
  wake (): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    if (this.timer === undefined) this.schedule(0)
  }

  private schedule (delayMs: number): void {
    if (this.stopped) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.run().catch(err => { this.log?.error({ err }, 'webhook dispatcher failed') })
    }, delayMs)
    this.timer.unref()
  }

  private async run (): Promise<void> {
    if (this.running || this.stopped) return
    this.running = true
    let wait: number | undefined
    try {
      do {
        this.again = false
        wait = await this.round()
      } while (wait === 0 || (wait === undefined && this.again))
    } finally {
      this.running = false
    }
    if (wait !== undefined && wait > 0) this.schedule(wait)
  }

  /**
   * One event of each of the next members. Returns 0 to go on at once, a delay to wait
   * (the endpoint is down, or every head waits for its retry), undefined when the journal is
   * empty.
   */
  private async round (): Promise<number | undefined> {
    const entries = await this.journal.next({ limit: ROUND, afterMember: this.cursor })
    if (entries.length === 0) return undefined
    let soonest = Infinity
    let progressed = false
    for (const entry of entries) {
      if (this.stopped) return undefined
      this.cursor = entry.member
      const tried = this.attempts.get(entry.key)
      const now = this.now()
      if (now - entry.event.at >= this.maxAgeMs) {
        await this.abandon(entry, tried?.count ?? 0)
        progressed = true
        continue
      }
      if (tried !== undefined && tried.nextAt > now) {
        soonest = Math.min(soonest, tried.nextAt - now)
        continue
      }
      const count = (tried?.count ?? 0) + 1
      const outcome = await this.post(entry, count)
      if (outcome === 'sent') {
        this.counts.sent++
        this.failures = 0
        this.attempts.delete(entry.key)
        await this.journal.remove([entry.key])
        progressed = true
        continue
      }
      if (this.stopped) return undefined
      this.counts.failedAttempts++
      this.failures++
      // only a refusal of this event counts towards abandoning it: an endpoint that is down
      // (no answer, 5xx, 429) refuses nothing, and its events wait for it, up to maxAgeMs
      const counted = outcome === 'refused' ? count : count - 1
      if (counted >= this.maxAttempts) {
        await this.abandon(entry, counted)
        progressed = true
      } else {
        this.attempts.set(entry.key, { count: counted, nextAt: this.now() + this.delay(count) })
      }
      // the endpoint looks down: wait, instead of failing every member's event in turn
      if (this.failures >= DOWN_AFTER_FAILURES) return this.delay(this.failures - DOWN_AFTER_FAILURES + 1)
    }
    return progressed ? 0 : (Number.isFinite(soonest) ? soonest : 0)
  }

  private async abandon (entry: JournalEntry, attempts: number): Promise<void> {
    this.counts.abandoned++
    this.attempts.delete(entry.key)
    await this.journal.remove([entry.key])
    this.log?.warn({ eventId: entry.eventId, attempts }, 'webhook event abandoned')
  }

  /** Exponential with equal jitter: half the ceiling plus a random half, so retries are neither in step nor immediate. */
  private delay (attempt: number): number {
    const ceiling = Math.min(this.retryCapMs, this.retryBaseMs * 2 ** Math.min(attempt - 1, 30))
    return Math.floor(ceiling / 2 + this.random() * ceiling / 2)
  }

  /** One attempt: sent (2xx), refused (this event: a 4xx other than 408 and 429), or failed (the endpoint's trouble). */
  private async post (entry: JournalEntry, attempt: number): Promise<'sent' | 'refused' | 'failed'> {
    const body = JSON.stringify({ ...entry.event, eventId: entry.eventId })
    const timestamp = String(Math.floor(this.now() / 1000))
    // header values are fixed strings, digits and hex only: nothing from the event reaches a header
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'tmtp-webhooks/1',
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signWebhook(this.secret, timestamp, body),
      [EVENT_ID_HEADER]: entry.eventId
    }
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)])
      })
      await response.body?.cancel().catch(() => {})
      if (response.status >= 200 && response.status < 300) return 'sent'
      this.log?.warn({ eventId: entry.eventId, status: response.status, attempt }, 'webhook refused')
      return response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429 ? 'refused' : 'failed'
    } catch (err) {
      if (!this.stopped) this.log?.warn({ eventId: entry.eventId, err: (err as Error).message, attempt }, 'webhook request failed')
      return 'failed'
    }
  }

  /** Cancels the timer and any request in flight; the journal keeps what was not sent. */
  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.abort.abort()
  }
}

/** Wakes the dispatcher whenever the node journals events, and once now (events from before a restart); returns the unsubscribe function. */
export function forwardSiteEvents (node: SiteNode, dispatcher: WebhookDispatcher): () => void {
  const wake = (): void => { dispatcher.wake() }
  node.addEventListener('delivery', wake)
  node.addEventListener('broadcast', wake)
  node.addEventListener('reply', wake)
  dispatcher.wake()
  return () => {
    node.removeEventListener('delivery', wake)
    node.removeEventListener('broadcast', wake)
    node.removeEventListener('reply', wake)
  }
}
