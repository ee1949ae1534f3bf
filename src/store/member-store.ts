import { Database, decodeJson, pad } from './database.js'
import type { StoredEpochKeys } from './epoch-keys.js'

/**
 * The member device's LevelDB layout (spec: "Roles and state"):
 *
 *   site:<site PeerId>             SiteRecord
 *   blk:<PeerId>                   BlockRecord
 *   ep:<site PeerId>:<epoch>       MemberEpochRecord (the signed epoch and the exported keys)
 *   in:<site PeerId>:<seq>         InboxRecord: the sealed envelope and its state
 *   iid:<id hex>                   in key of that message (deduplication, lookup by id)
 *   pseq:<site PeerId>             last device-to-site sequence number used
 *   po:<site PeerId>:<seq>         post outbox: the encoded Push{envelope} of an unacknowledged reply
 *   pst:<id hex>                   PostRecord: a reply and its delivery state
 */

export interface SiteRecord {
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
  /** The Envelope bytes as received, base64: the inbox holds messages sealed. */
  envelope: string
}

export interface PostRecord {
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

  site = async (peer: string): Promise<SiteRecord | undefined> => await this.db.getJson(key.site(peer))
  block = async (peer: string): Promise<BlockRecord | undefined> => await this.db.getJson(key.block(peer))
  post = async (id: string): Promise<PostRecord | undefined> => await this.db.getJson(key.post(id))

  async sites (): Promise<SiteRecord[]> {
    const out: SiteRecord[] = []
    for await (const [, value] of this.db.entries('site:')) out.push(decodeJson<SiteRecord>(value))
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
    return inboxKey === undefined ? undefined : await this.db.getJson<InboxRecord>(inboxKey)
  }

  async * inbox (site?: string): AsyncGenerator<InboxRecord> {
    for await (const [, value] of this.db.entries(site === undefined ? 'in:' : `in:${site}:`)) yield decodeJson<InboxRecord>(value)
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
