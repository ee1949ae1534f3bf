import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import { NodeError } from '../util/node-error.js'
import { Database, decodeJson, pad } from './database.js'
import type { StoredEpochKeys } from './epoch-keys.js'

/**
 * The site's LevelDB layout (spec: "Roles and state"). One database, keys by prefix:
 *
 *   inv:<sha256(secret) hex>            InviteRecord
 *   mem:<member id>                     MemberRecord
 *   ref:<user reference>                member id
 *   dev:<device PeerId>                 DeviceRecord
 *   seq:<device PeerId>                 last sequence number sealed for the device
 *   ep:<device PeerId>:<epoch>          EpochRecord (with the exported keys: the site cannot re-derive them)
 *   ob:<device PeerId>:<rank>:<seq>     outbox: the encoded Push{envelope}; rank orders urgency
 *   st:<message id hex>:<device PeerId> SettledRecord: the final state of a message for a device
 *   msg:<message id hex>                MessageRecord (with its recipients: no st record means queued)
 *   idem:<idempotency key>              message id hex of an earlier send with that key
 *   tp:<member id>:<topic>              message id hex of the newest message with that topic
 *   ack:<sha256 of proof hex>           a signed acknowledgement (SignedPayload bytes)
 *   rp:<received time>:<id hex>         Reply
 *   rid:<id hex>                        rp key of that reply (deduplication)
 */

export interface InviteRecord {
  hash: string
  ref: string
  created: number
  expires: number
  used?: { at: number, device: string, member: string }
}

export interface MemberRecord {
  id: string
  ref: string
  created: number
  devices: string[]
}

export interface DeviceRecord {
  peerId: string
  member: string
  x25519: string
  name: string
  joined: number
  addrs: string[]
}

export interface EpochRecord extends StoredEpochKeys {
  epoch: number
  created: number
  expires: number
  /** The device's X25519 key the epoch was encapsulated to, hex. */
  x25519: string
  /** SignedPayload bytes of the KeyEpoch, hex. */
  signed: string
  /**
   * The device's first sequence number sealed under this epoch: sequence numbers are
   * consecutive per device, so seq - firstSeq + 1 envelopes are sealed under it when seq is
   * the last, and the record is written once, not on every send.
   */
  firstSeq: number
}

import type { DeliveryState, SettledState } from './states.js'

/** One device a message was sealed for, as the message record lists it. */
export interface Recipient {
  member: string
  device: string
  seq: number
  /** The outbox rank (urgency) the envelope was queued at. */
  rank: number
}

/**
 * How a message left a device's outbox. Only this is written when the state changes: while
 * queued, a message's per-device state follows from its message record, so a send writes
 * no status at all.
 */
export interface SettledRecord {
  state: SettledState
  /** When the state was reached. */
  at: number
  code?: string
  detail?: string
  /** Key of the signed acknowledgement that proves delivery. */
  ack?: string
}

/** A message's state for one device. */
export interface StatusRecord extends Recipient {
  /** When the message was sent (sealed and queued). */
  created: number
  state: DeliveryState
  /** When the state was reached. */
  at: number
  code?: string
  detail?: string
  ack?: string
}

export interface MessageRecord {
  id: string
  created: number
  expires: number
  urgency: string
  topic?: string
  subject: string
  members: string[]
  recipients: Recipient[]
  idempotencyKey?: string
}

/** A member's reply as the site keeps and reports it. */
export interface Reply {
  id: string
  device: string
  member: string
  ref: string
  subject: string
  body: string
  contentType: string
  thread: string
  replyTo: string
  created: number
  received: number
}

/** A reply with the cursor to read on from it. */
export interface ReplyView extends Reply {
  /** Opaque: pass it back as `after` to read the replies received after this one. */
  cursor: string
}

const REPLY_KEY = /^rp:[0-9]{16}:[0-9a-f]{32}$/

/** The store key a replies cursor stands for; INVALID_ARGUMENT when it is not one this store made. */
function replyKeyFromCursor (cursor: string): string {
  let k = ''
  try {
    if (typeof cursor === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(cursor)) k = uint8ArrayToString(uint8ArrayFromString(cursor, 'base64url'))
  } catch {
    // not base64url: refused below like any other cursor this store did not make
  }
  if (!REPLY_KEY.test(k)) throw new NodeError('INVALID_ARGUMENT', 'not a replies cursor')
  return k
}

export const key = {
  invite: (hash: string) => `inv:${hash}`,
  member: (id: string) => `mem:${id}`,
  ref: (ref: string) => `ref:${ref}`,
  device: (peer: string) => `dev:${peer}`,
  seq: (peer: string) => `seq:${peer}`,
  epoch: (peer: string, epoch: number) => `ep:${peer}:${pad(epoch)}`,
  epochPrefix: (peer: string) => `ep:${peer}:`,
  outbox: (peer: string, rank: number, seq: number) => `ob:${peer}:${rank}:${pad(seq)}`,
  outboxPrefix: (peer: string) => `ob:${peer}:`,
  status: (id: string, peer: string) => `st:${id}:${peer}`,
  message: (id: string) => `msg:${id}`,
  idempotency: (k: string) => `idem:${k}`,
  topic: (member: string, topic: string) => `tp:${member}:${topic}`,
  ack: (hash: string) => `ack:${hash}`,
  reply: (received: number, id: string) => `rp:${pad(received)}:${id}`,
  replyId: (id: string) => `rid:${id}`
}

/** Typed reads over the site's database; writes are composed by callers and committed together. */
export class SiteStore {
  readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  invite = async (hash: string): Promise<InviteRecord | undefined> => await this.db.getJson(key.invite(hash))
  member = async (id: string): Promise<MemberRecord | undefined> => await this.db.getJson(key.member(id))
  device = async (peer: string): Promise<DeviceRecord | undefined> => await this.db.getJson(key.device(peer))
  message = async (id: string): Promise<MessageRecord | undefined> => await this.db.getJson(key.message(id))
  epoch = async (peer: string, epoch: number): Promise<EpochRecord | undefined> => await this.db.getJson(key.epoch(peer, epoch))

  async memberByRef (ref: string): Promise<MemberRecord | undefined> {
    const id = await this.db.getJson<string>(key.ref(ref))
    return id === undefined ? undefined : await this.member(id)
  }

  async seq (peer: string): Promise<number> {
    return await this.db.getJson<number>(key.seq(peer)) ?? 0
  }

  async latestEpoch (peer: string): Promise<EpochRecord | undefined> {
    const last = await this.db.first(key.epochPrefix(peer), { reverse: true })
    return last === undefined ? undefined : decodeJson<EpochRecord>(last[1])
  }

  async epochs (peer: string): Promise<EpochRecord[]> {
    const out: EpochRecord[] = []
    for await (const [, value] of this.db.entries(key.epochPrefix(peer))) out.push(decodeJson<EpochRecord>(value))
    return out
  }

  /** The message's state for each of its devices, in the order they were sealed. */
  async statuses (message: MessageRecord): Promise<StatusRecord[]> {
    const settled = await this.db.getMany(message.recipients.map(r => key.status(message.id, r.device)))
    return message.recipients.map((r, i) => {
      const raw = settled[i]
      const base = { ...r, created: message.created }
      return raw === undefined ? { ...base, state: 'queued', at: message.created } : { ...base, ...decodeJson<SettledRecord>(raw) }
    })
  }

  /** Every settled record's state (a scan: queued messages are counted in the outbox). */
  async * settledStates (): AsyncGenerator<SettledRecord['state']> {
    for await (const [, value] of this.db.entries('st:')) yield decodeJson<SettledRecord>(value).state
  }

  async * members (): AsyncGenerator<MemberRecord> {
    for await (const [, value] of this.db.entries('mem:')) yield decodeJson<MemberRecord>(value)
  }

  async * devices (): AsyncGenerator<DeviceRecord> {
    for await (const [, value] of this.db.entries('dev:')) yield decodeJson<DeviceRecord>(value)
  }

  /** Replies in the order they were received, after an opaque cursor (from an earlier page). */
  async replies (options: { after?: string, limit: number }): Promise<ReplyView[]> {
    const after = options.after === undefined ? undefined : replyKeyFromCursor(options.after)
    const page = await this.db.range('rp:', { after, limit: options.limit })
    return page.map(([k, value]) => ({ ...decodeJson<Reply>(value), cursor: uint8ArrayToString(uint8ArrayFromString(k), 'base64url') }))
  }

  async hasOutbox (peer: string): Promise<boolean> {
    return await this.db.first(key.outboxPrefix(peer)) !== undefined
  }

  async * outbox (peer: string, after?: string, limit?: number): AsyncGenerator<[string, Uint8Array]> {
    yield * this.db.entries(key.outboxPrefix(peer), { after, limit })
  }

  /** Every device with something in its outbox, once each. */
  async * devicesWithOutbox (): AsyncGenerator<string> {
    let after: string | undefined
    for (;;) {
      const found = await this.db.first('ob:', { after })
      if (found === undefined) return
      const peer = found[0].split(':')[1]
      yield peer
      after = `ob:${peer}:\xff`
    }
  }
}
