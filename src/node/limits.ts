// leaf files, not the layers' faces: the node's light contract (contract.ts) loads this file
import { MAX_STORED_RECORD_BYTES } from '../discovery/constants.js'
import { ACK_DELAY_MS, MAX_IN_FLIGHT, STREAM_IDLE_TIMEOUT_MS } from '../protocol/constants.js'
import { NodeError } from '../util/node-error.js'
import { DEFAULTS } from './defaults.js'

/**
 * The limits a node enforces on its peers and its own queues (spec: "Limits"), each a node
 * option and a key of config.json's `limits`. Protocol limits fixed by the spec (frame
 * sizes, MAX_IN_FLIGHT, field sizes) are constants in src/protocol/constants.ts instead.
 */
export interface NodeLimits {
  /** Envelopes a sender keeps unacknowledged per stream. */
  window: number
  /** Site: join attempts per peer per minute. */
  joinsPerMinute: number
  /** Site: join attempts per IP address (IPv6: per /64) per minute, all its peers together. */
  joinsPerMinutePerIp: number
  /** Site: connections from one IP address (IPv6: one /64) at a time. */
  maxConnectionsPerIp: number
  /** Inbound streams per connection per TMTP protocol. */
  maxInboundStreams: number
  /** Site: envelopes queued per member device. */
  maxQueuePerDevice: number
  /** Streams a peer may have refused per minute before it is banned. */
  refusalsPerMinute: number
  /** How long a banned peer is refused, in ms. */
  banMs: number
  /** A deliver or post stream idle this long is closed, in ms. */
  streamIdleMs: number
  /** DHT server: address records kept for other nodes. */
  dhtMaxRecords: number
  /** DHT server: bytes of those records (datastore keys and values). */
  dhtMaxBytes: number
  /** DHT server: PUT_VALUE requests accepted per peer per minute. */
  dhtPutsPerMinute: number
  /** DHT server: PUT_VALUE requests accepted per IP address (IPv6: per /64) per minute. */
  dhtPutsPerMinutePerIp: number
  /** Site: replies a member device may post per minute. */
  repliesPerMinute: number
  /** Site: replies a member (all its devices) may post per minute. */
  repliesPerMinutePerMember: number
  /** Site: bytes of a member's replies the site keeps until the backend collects them or they age out. */
  replyBytesPerMember: number
  /** Site: how long the site keeps a reply the backend did not collect, in ms. */
  replyRetentionMs: number
  /** Site: bytes of one attachment (an upload). */
  maxAttachmentBytes: number
  /** Site: bytes of all the attachments of one message together. */
  maxMessageAttachmentBytes: number
  /** Site: bytes of all the attachments it holds together (sealed, uploads under way included). */
  maxStoredAttachmentBytes: number
  /** Site: how long after its upload a send may list an attachment, in ms. */
  attachmentHoldMs: number
  /** Member: attachments of at most this many bytes are fetched when their message arrives; larger ones when asked (0: none). */
  autoFetchBytes: number
  /** Deferred acks (spec 15.2): envelopes stored within this many ms of the stream's last ack wait for one ack, sent by then (0: each batch is acknowledged at once). */
  ackDelayMs: number
}

/** Allowed range of each limit, inclusive. */
export const LIMIT_RANGES: Record<keyof NodeLimits, readonly [number, number]> = {
  window: [1, MAX_IN_FLIGHT],
  joinsPerMinute: [1, 1_000_000],
  joinsPerMinutePerIp: [1, 1_000_000],
  maxConnectionsPerIp: [1, 1_000_000],
  maxInboundStreams: [1, 1024],
  maxQueuePerDevice: [1, 1_000_000_000],
  refusalsPerMinute: [1, 1_000_000],
  banMs: [0, 7 * 24 * 3600_000],
  streamIdleMs: [1_000, STREAM_IDLE_TIMEOUT_MS],
  dhtMaxRecords: [1, 10_000_000],
  // at least one record of the largest size an address record can have
  dhtMaxBytes: [MAX_STORED_RECORD_BYTES + 64, 4 * 1024 ** 3],
  dhtPutsPerMinute: [1, 1_000_000],
  dhtPutsPerMinutePerIp: [1, 1_000_000],
  repliesPerMinute: [1, 1_000_000],
  repliesPerMinutePerMember: [1, 1_000_000],
  // at least one reply of the largest size
  replyBytesPerMember: [128 * 1024, 1024 ** 4],
  replyRetentionMs: [3600_000, 366 * 24 * 3600_000],
  maxAttachmentBytes: [1, 16 * 1024 ** 3],
  maxMessageAttachmentBytes: [1, 64 * 1024 ** 3],
  maxStoredAttachmentBytes: [1, 1024 ** 5],
  attachmentHoldMs: [1_000, 30 * 24 * 3600_000],
  autoFetchBytes: [0, 16 * 1024 ** 3],
  ackDelayMs: [0, ACK_DELAY_MS]
}

/** The limits given, checked, with the defaults for the rest. Throws INVALID_ARGUMENT naming the bad one. */
export function resolveLimits (given: Partial<Record<keyof NodeLimits, unknown>>): NodeLimits {
  const limits = {} as NodeLimits
  for (const name of Object.keys(LIMIT_RANGES) as Array<keyof NodeLimits>) {
    const value = given[name] ?? DEFAULTS[name]
    const [min, max] = LIMIT_RANGES[name]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new NodeError('INVALID_ARGUMENT', `limit ${name} must be an integer from ${min} to ${max}`)
    }
    limits[name] = value
  }
  return limits
}
