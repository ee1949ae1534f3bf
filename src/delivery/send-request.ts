import { NodeError } from '../util/index.js'
import { isUrgency, URGENCIES, type Urgency } from './urgency.js'
import type { DeliveryEvent } from '../store/index.js'

/** The most names one send may list (the API schema takes its bound from here). */
export const MAX_SEND_RECIPIENTS = 1000

/** The most groups one send may name. */
export const MAX_SEND_GROUPS = 100

/** Longest topic, in characters. */
export const MAX_TOPIC_LENGTH = 256

/** Longest idempotency key, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256

/** How a send is reported to the backend: an event per device copy, or one `broadcast` event once every copy settled. */
export const REPORT_MODES = ['per-device', 'once'] as const

export type ReportMode = typeof REPORT_MODES[number]

/** What a site's backend asks to send (the library's `send`, the API's POST /v1/messages). */
export interface SendRequest {
  /**
   * Who receives it, in any mix: members by id or user reference (`to`), every member of each
   * group named by id or name (`groups`), every member of the site (`all`). Resolved once, when
   * the send is accepted: each device of each member so named gets one copy, and later changes
   * of groups or members do not change who the message is for. At least one must name someone.
   */
  to?: string[]
  groups?: string[]
  all?: boolean
  subject: string
  body: string
  /** MIME type of the body; absent or empty means DEFAULT_CONTENT_TYPE. */
  contentType?: string
  ttlMs?: number
  urgency?: Urgency
  /** A newer message with the same topic replaces an undelivered older one for the same member. */
  topic?: string
  /** A retried send with the same key returns the first send's result and sends nothing. */
  idempotencyKey?: string
  /** Ids (hex) of the thread's first message and of the message answered. */
  thread?: string
  replyTo?: string
  /** Files uploaded to the site (`uploadAttachment`'s ids), at most MAX_ATTACHMENTS: each copy carries their keys, the devices fetch them (spec 15.6). */
  attachments?: string[]
  /**
   * How the backend hears of it: an event per device copy as it settles ('per-device', the
   * default), or one `broadcast` event with the counts once every copy settled or expired
   * ('once': the message is then a broadcast, whatever its size).
   */
  report?: ReportMode
}

export interface SendResult {
  id: string
  created: number
  expires: number
  /** Device copies it is for. */
  devices: number
  /** A broadcast: accepted, its copies sealed in the background (then `recipients` is empty: page through the message's status). */
  fanout: boolean
  /** The copies sealed in the send, one per device (none for a broadcast). */
  recipients: Array<{ member: string, device: string }>
  /** True when an earlier send with the same idempotency key is returned. */
  duplicate: boolean
}

/** A message reached a final state on one device (the journal's delivery event). */
export type SiteEvent = DeliveryEvent

/** Checks a send's shape and bounds (the byte limits of its content are checked when it is encoded). */
export function validateSend (req: SendRequest, ttl: number, maxTtl: number): void {
  const names = (list: unknown, max: number): number => Array.isArray(list) && list.length <= max && list.every(t => typeof t === 'string' && t !== '') ? list.length : -1
  const to = names(req.to ?? [], MAX_SEND_RECIPIENTS)
  const groups = names(req.groups ?? [], MAX_SEND_GROUPS)
  if (to < 0) throw new NodeError('INVALID_ARGUMENT', `to must list at most ${MAX_SEND_RECIPIENTS} member ids or references`)
  if (groups < 0) throw new NodeError('INVALID_ARGUMENT', `groups must list at most ${MAX_SEND_GROUPS} group ids or names`)
  if (req.all !== undefined && typeof req.all !== 'boolean') throw new NodeError('INVALID_ARGUMENT', 'all must be true or false')
  if (to === 0 && groups === 0 && req.all !== true) throw new NodeError('INVALID_ARGUMENT', 'a send names at least one member (to), group (groups) or all members (all)')
  if (typeof req.subject !== 'string' || typeof req.body !== 'string') throw new NodeError('INVALID_ARGUMENT', 'subject and body must be strings')
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > maxTtl) throw new NodeError('INVALID_ARGUMENT', `ttl must be between 1 ms and ${maxTtl} ms`)
  if (req.urgency !== undefined && !isUrgency(req.urgency)) throw new NodeError('INVALID_ARGUMENT', `urgency must be one of ${URGENCIES.join(', ')}`)
  if (req.topic !== undefined && (typeof req.topic !== 'string' || req.topic === '' || req.topic.length > MAX_TOPIC_LENGTH)) {
    throw new NodeError('INVALID_ARGUMENT', `topic must be 1 to ${MAX_TOPIC_LENGTH} characters`)
  }
  if (req.report !== undefined && !(REPORT_MODES as readonly unknown[]).includes(req.report)) throw new NodeError('INVALID_ARGUMENT', `report must be one of ${REPORT_MODES.join(', ')}`)
  if (req.idempotencyKey !== undefined && (typeof req.idempotencyKey !== 'string' || req.idempotencyKey === '' || req.idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw new NodeError('INVALID_ARGUMENT', `idempotency key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`)
  }
}
