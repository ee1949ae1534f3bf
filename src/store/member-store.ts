import { allocUnsafe } from 'uint8arrays/alloc'
import { Envelope, EnvelopeHeader } from '../protocol/index.js'
import { decodeJson, del, pad, put, type Database, type Write } from './database.js'
import type { OutboxEntry } from './site-store.js'
import type { StoredEpochKeys } from './epoch-keys.js'
import { toHex } from '../util/index.js'

/**
 * The member device's LevelDB layout (spec section 3, "Roles and state"). Only this file
 * knows it: callers read through the read methods and build atomic batches from the named
 * write builders.
 *
 *   site:<site PeerId>             JoinedSite
 *   blk:<PeerId>                   BlockRecord
 *   ep:<site PeerId>:<epoch>       MemberEpochRecord (the signed epoch and the exported keys)
 *   in:<site PeerId>:<epoch>:<seq> inbox entry: the sealed envelope as received and its state
 *                                  (encodeInboxEntry); (epoch, seq) is unique per site even after the
 *                                  site lost its state, since its epoch numbers only grow (spec 10.3)
 *   iid:<id hex>:<site PeerId>     in key of that message: ids are per sender (spec 11.7), so one
 *                                  id may come from two sites, each its own message; kept when the
 *                                  member deletes the message, so that a resend is still a duplicate
 *   layout                         3 once keys are as above (older nodes wrote in:<site>:<seq> and iid:<id>)
 *   pseq:<site PeerId>             last device-to-site sequence number used
 *   po:<site PeerId>:<seq>         post outbox: the encoded Push{envelope} of an unacknowledged reply
 *   pst:<id hex>                   PostStatus: a reply and its delivery state
 *   att:<site PeerId>:<id hex>:<n> the state of a message's attachment n (attachment-store.ts)
 *   atr:<site PeerId>:<blob hex>   a report owed to the site that the device fetched the blob
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
  // from the pool (every byte is written): a buffer of its own per message received cost ~1 µs and GC work (issue #14)
  const out = allocUnsafe(ENTRY_PREFIX + entry.envelope.byteLength)
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
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
    id: toHex(header.id),
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

/** The layout version this file writes (see the layout above). */
const LAYOUT = 3

const key = {
  site: (peer: string) => `site:${peer}`,
  block: (peer: string) => `blk:${peer}`,
  epoch: (site: string, epoch: number) => `ep:${site}:${pad(epoch)}`,
  epochPrefix: (site: string) => `ep:${site}:`,
  inbox: (site: string, epoch: number, seq: number) => `in:${site}:${pad(epoch)}:${pad(seq)}`,
  inboxId: (id: string, site: string) => `iid:${id}:${site}`,
  inboxIdPrefix: (id: string) => `iid:${id}:`,
  postSeq: (site: string) => `pseq:${site}`,
  postOutbox: (site: string, seq: number) => `po:${site}:${pad(seq)}`,
  postOutboxPrefix: (site: string) => `po:${site}:`,
  post: (id: string) => `pst:${id}`
}

/** The device's records: typed reads and named write builders for atomic batches. */
export class MemberStore {
  private readonly db: Database

  private constructor (db: Database) {
    this.db = db
  }

  /** The store over an open database, its layout brought up to date. */
  static async open (db: Database): Promise<MemberStore> {
    const store = new MemberStore(db)
    if ((await db.getJson<number>('layout') ?? 1) < LAYOUT) await store.upgradeLayout()
    return store
  }

  /**
   * Rewrites an older node's inbox keys (in:<site>:<seq>) and id index (iid:<id>) as they are
   * now, in one write: the inbox of a device is small enough for one batch.
   */
  private async upgradeLayout (): Promise<void> {
    const writes: Write[] = []
    for await (const [k, value] of this.db.entries('in:')) {
      if (k.split(':').length !== 3) continue
      const record = decodeInboxEntry(siteOf(k), value)
      const moved = key.inbox(record.site, record.epoch, record.seq)
      writes.push(del(k), put(moved, value), put(key.inboxId(record.id, record.site), moved))
    }
    for await (const [k] of this.db.entries('iid:')) {
      if (k.split(':').length === 2) writes.push(del(k))
    }
    await this.db.write([...writes, put('layout', LAYOUT)])
  }

  /** Commits writes made by the builders below, atomically (gathered with concurrent writes); `sync` forces an fsync. */
  async write (writes: Write[], options: { sync?: boolean } = {}): Promise<void> {
    await this.db.write(writes, options)
  }

  // sites and blocks

  site = async (peer: string): Promise<JoinedSite | undefined> => await this.db.getJson(key.site(peer))

  async sites (): Promise<JoinedSite[]> {
    return (await this.db.range('site:', { limit: -1 })).map(([, value]) => decodeJson<JoinedSite>(value))
  }

  putSite (site: JoinedSite): Write[] {
    return [put(key.site(site.peerId), site)]
  }

  blockOf = async (peer: string): Promise<BlockRecord | undefined> => await this.db.getJson(key.block(peer))

  async blocked (): Promise<Array<[string, BlockRecord]>> {
    return (await this.db.range('blk:', { limit: -1 })).map(([k, value]) => [k.slice(4), decodeJson<BlockRecord>(value)])
  }

  block (peer: string, record: BlockRecord): Write[] {
    return [put(key.block(peer), record)]
  }

  unblock (peer: string): Write[] {
    return [del(key.block(peer))]
  }

  // key epochs

  async epochs (site: string): Promise<MemberEpochRecord[]> {
    return (await this.db.range(key.epochPrefix(site), { limit: -1 })).map(([, value]) => decodeJson<MemberEpochRecord>(value))
  }

  putEpoch (site: string, record: MemberEpochRecord): Write[] {
    return [put(key.epoch(site, record.epoch), record)]
  }

  // the inbox

  /** The messages with this id, one per site that sent one (ids are unique per sender only). */
  async inboxById (id: string): Promise<InboxRecord[]> {
    if (!/^[0-9a-f]{32}$/.test(id)) return []
    const inboxKeys = (await this.db.range(key.inboxIdPrefix(id), { limit: -1 })).map(([, value]) => decodeJson<string>(value))
    const values = await this.db.getMany(inboxKeys)
    return inboxKeys.flatMap((k, i) => {
      const value = values[i]
      return value === undefined ? [] : [decodeInboxEntry(siteOf(k), value)]
    })
  }

  async * inbox (site?: string): AsyncGenerator<InboxRecord> {
    for await (const [k, value] of this.db.entries(site === undefined ? 'in:' : `in:${site}:`)) yield decodeInboxEntry(siteOf(k), value)
  }

  /** Whether each message id from this site is in the inbox already (deduplication). */
  async knownInbox (site: string, ids: string[]): Promise<boolean[]> {
    return (await this.db.getMany(ids.map(id => key.inboxId(id, site)))).map(v => v !== undefined)
  }

  /** Messages received from a site, stored sealed, unread. */
  putInbox (records: InboxRecord[]): Write[] {
    return records.flatMap(record => {
      const inboxKey = key.inbox(record.site, record.epoch, record.seq)
      return [put(inboxKey, encodeInboxEntry(record)), put(key.inboxId(record.id, record.site), inboxKey)]
    })
  }

  /** The member deletes a message: its entry goes, its id stays known (spec 11.7: a resend is a duplicate). */
  deleteInbox (record: InboxRecord): Write[] {
    return [del(key.inbox(record.site, record.epoch, record.seq))]
  }

  setRead (record: InboxRecord, read: boolean): Write[] {
    return [put(key.inbox(record.site, record.epoch, record.seq), encodeInboxEntry({ ...record, read }))]
  }

  // posts to sites (replies)

  post = async (id: string): Promise<PostStatus | undefined> => await this.db.getJson(key.post(id))

  async postSeq (site: string): Promise<number> {
    return await this.db.getJson<number>(key.postSeq(site)) ?? 0
  }

  /** A sealed post enters the site's post outbox, with its status; its seq becomes the last used. */
  queuePost (post: PostStatus, frame: Uint8Array): Write[] {
    return [put(key.postOutbox(post.site, post.seq), frame), put(key.postSeq(post.site), post.seq), put(key.post(post.id), post)]
  }

  async hasPosts (site: string): Promise<boolean> {
    return await this.db.first(key.postOutboxPrefix(site)) !== undefined
  }

  /** Up to `limit` queued posts to a site, after the entry `after`. */
  async postPage (site: string, options: { after?: string, limit: number }): Promise<OutboxEntry[]> {
    return (await this.db.range(key.postOutboxPrefix(site), options)).map(([k, frame]) => ({ key: k, frame }))
  }

  /** Queued posts leave the outbox in a final state. */
  async settlePosts (entries: Array<{ key: string, idHex: string }>, update: Pick<PostStatus, 'state' | 'at' | 'code'>): Promise<Write[]> {
    const records = await this.db.getMany(entries.map(e => key.post(e.idHex)))
    return entries.flatMap((entry, i) => {
      const raw = records[i]
      return raw === undefined ? [del(entry.key)] : [del(entry.key), put(key.post(entry.idHex), { ...decodeJson<PostStatus>(raw), ...update })]
    })
  }
}

/** The site PeerId of an inbox key (in:<site>:…). */
function siteOf (inboxKey: string): string {
  return inboxKey.split(':')[1]
}
