import { toString as uint8ArrayToString } from 'uint8arrays'
import { Envelope, EnvelopeHeader } from '../protocol/pb/tmtp.js'
import { Database, decodeJson, pad } from './database.js'
import type { StoredEpochKeys } from './epoch-keys.js'

/**
 * The member device's LevelDB layout (spec: "Roles and state"):
 *
 *   site:<site PeerId>             JoinedSite
 *   blk:<PeerId>                   BlockRecord
 *   ep:<site PeerId>:<epoch>       MemberEpochRecord (the signed epoch and the exported keys)
 *   in:<site PeerId>:<seq>         inbox entry: the sealed envelope as received and its state (encodeInboxEntry)
 *   iid:<id hex>                   in key of that message (deduplication, lookup by id)
 *   pseq:<site PeerId>             last device-to-site sequence number used
 *   po:<site PeerId>:<seq>         post outbox: the encoded Push{envelope} of an unacknowledged reply
 *   pst:<id hex>                   PostStatus: a reply and its delivery state
 */

export interface JoinedSite {
  peerId: string
  name: string
  member: string
  addrs: string[]
  joined: number
  /** Set once the member left the site: leaving is final. */
  left?: number
}

export interface BlockRecord {
  at: number
  reason: string
}

export interface MemberEpochRecord extends StoredEpochKeys {
  epoch: number
  created: number
  expires: number
  signed: string
}

export interface InboxRecord {
  id: string
  site: string
  seq: number
  epoch: number
  created: number
  expires: number
  received: number
  read: boolean
  /** The Envelope bytes as received: the inbox holds messages sealed. */
  envelope: Uint8Array
}

/** What an inbox entry stores besides the envelope; the rest is read from the envelope's header. */
export type InboxEntry = Pick<InboxRecord, 'received' | 'read' | 'envelope'>

const ENTRY_PREFIX = 9

/**
 * An inbox entry as stored: one byte read flag, the time received (float64, big-endian), then
 * the Envelope bytes. Binary rather than JSON: the envelope is most of each message's bytes and
 * would grow by a third as base64 text.
 */
export function encodeInboxEntry (entry: InboxEntry): Uint8Array {
  const out = new Uint8Array(ENTRY_PREFIX + entry.envelope.byteLength)
  const view = new DataView(out.buffer)
  view.setUint8(0, entry.read ? 1 : 0)
  view.setFloat64(1, entry.received)
  out.set(entry.envelope, ENTRY_PREFIX)
  return out
}

export function decodeInboxEntry (site: string, bytes: Uint8Array): InboxRecord {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const envelope = bytes.subarray(ENTRY_PREFIX)
  const header = EnvelopeHeader.decode(Envelope.decode(envelope).header)
  return {
    id: uint8ArrayToString(header.id, 'base16'),
    site,
    seq: header.seq,
    epoch: header.epoch,
    created: header.created,
    expires: header.expires,
    received: view.getFloat64(1),
    read: view.getUint8(0) === 1,
    envelope
  }
}

export interface PostStatus {
  id: string
  site: string
  seq: number
  created: number
  state: 'queued' | 'delivered' | 'rejected'
  at: number
  code?: string
  replyTo: string
  subject: string
}

export const key = {
  site: (peer: string) => `site:${peer}`,
  block: (peer: string) => `blk:${peer}`,
  epoch: (site: string, epoch: number) => `ep:${site}:${pad(epoch)}`,
  epochPrefix: (site: string) => `ep:${site}:`,
  inbox: (site: string, seq: number) => `in:${site}:${pad(seq)}`,
  inboxId: (id: string) => `iid:${id}`,
  postSeq: (site: string) => `pseq:${site}`,
  postOutbox: (site: string, seq: number) => `po:${site}:${pad(seq)}`,
  postOutboxPrefix: (site: string) => `po:${site}:`,
  post: (id: string) => `pst:${id}`
}

/** Typed reads over the member's database; writes are composed by callers. */
export class MemberStore {
  readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  site = async (peer: string): Promise<JoinedSite | undefined> => await this.db.getJson(key.site(peer))
  block = async (peer: string): Promise<BlockRecord | undefined> => await this.db.getJson(key.block(peer))
  post = async (id: string): Promise<PostStatus | undefined> => await this.db.getJson(key.post(id))

  async sites (): Promise<JoinedSite[]> {
    const out: JoinedSite[] = []
    for await (const [, value] of this.db.entries('site:')) out.push(decodeJson<JoinedSite>(value))
    return out
  }

  async blocked (): Promise<Array<[string, BlockRecord]>> {
    const out: Array<[string, BlockRecord]> = []
    for await (const [k, value] of this.db.entries('blk:')) out.push([k.slice(4), decodeJson<BlockRecord>(value)])
    return out
  }

  async epochs (site: string): Promise<MemberEpochRecord[]> {
    const out: MemberEpochRecord[] = []
    for await (const [, value] of this.db.entries(key.epochPrefix(site))) out.push(decodeJson<MemberEpochRecord>(value))
    return out
  }

  async inboxById (id: string): Promise<InboxRecord | undefined> {
    const inboxKey = await this.db.getJson<string>(key.inboxId(id))
    const value = inboxKey === undefined ? undefined : await this.db.get(inboxKey)
    return inboxKey === undefined || value === undefined ? undefined : decodeInboxEntry(siteOf(inboxKey), value)
  }

  async * inbox (site?: string): AsyncGenerator<InboxRecord> {
    for await (const [k, value] of this.db.entries(site === undefined ? 'in:' : `in:${site}:`)) yield decodeInboxEntry(siteOf(k), value)
  }

  async postSeq (site: string): Promise<number> {
    return await this.db.getJson<number>(key.postSeq(site)) ?? 0
  }

  async hasPosts (site: string): Promise<boolean> {
    return await this.db.first(key.postOutboxPrefix(site)) !== undefined
  }

  async * postOutbox (site: string, after?: string): AsyncGenerator<[string, Uint8Array]> {
    yield * this.db.entries(key.postOutboxPrefix(site), { after })
  }
}

/** The site PeerId of an inbox key (in:<site>:<seq>). */
function siteOf (inboxKey: string): string {
  return inboxKey.slice(3, inboxKey.lastIndexOf(':'))
}
