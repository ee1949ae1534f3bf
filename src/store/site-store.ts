import { toString as uint8ArrayToString } from 'uint8arrays'
import { sha256 } from '../crypto/index.js'
import { add, decodeJson, del, encodeJson, pad, put, type Database, type Write } from './database.js'
import { BroadcastStore, RECIPIENT_PAGE, type CopyCounts } from './broadcast-store.js'
import { cursorOfKey, keyOfCursor } from './cursor.js'
import { GroupStore } from './group-store.js'
import { isMemberId } from './member-id.js'
import { cursorOfReplyKey, replyKeyFromCursor } from './reply-cursor.js'
import { DELIVERY_STATES, type CopyState, type DeliveryState, type SettledState } from './states.js'
import type { StoredEpochKeys } from './epoch-keys.js'
import { toHex } from '../util/index.js'

/**
 * The site's LevelDB layout (spec section 3, "Roles and state"). Only this file knows it:
 * callers read through the read methods and build atomic batches from the named write
 * builders (each returns the writes of one change, for `write` to commit together). One
 * database, keys by prefix:
 *
 *   inv:<sha256(secret) hex>            InviteRecord
 *   mem:<member id>                     MemberRecord
 *   ref:<user reference>                member id
 *   rrm:<user reference>                when the member with that reference was last removed (invites
 *                                       for it issued until then are revoked)
 *   dev:<device PeerId>                 DeviceRecord
 *   seq:<device PeerId>                 last sequence number sealed for the device
 *   ep:<device PeerId>:<epoch>          EpochRecord (with the exported keys: the site cannot re-derive them)
 *   ob:<device PeerId>:<rank>:<seq>     outbox: the encoded Push{envelope}; rank orders urgency
 *   st:<message id hex>:<device PeerId> SettledRecord: the final state of a message for a device, but
 *                                       a delivery's (older nodes wrote one for deliveries too)
 *   dl:<device PeerId>:<first seq>      DeliveryRun: the device's copies with the sequence numbers from
 *                                       `first` to `last` were delivered, by one signed acknowledgement
 *                                       (ack:): a delivery writes no record per message (issue #14)
 *   msg:<message id hex>                MessageRecord (with its recipients; a broadcast's are in pages, its
 *                                       copies in rd: records). A copy with no st record is queued while
 *                                       its envelope is in the outbox, and delivered (dl:) once it is not
 *   idem:<idempotency key>              message id hex of an earlier send with that key
 *   tp:<member id>:<topic>              message id hex of the newest message with that topic
 *   ack:<sha256 of proof hex>           a signed acknowledgement (SignedPayload bytes)
 *   rp:<received time>:<id hex>:<device PeerId>   Reply (older nodes wrote rp:<received time>:<id hex>)
 *   rid:<id hex>:<device PeerId>        rp key of that reply: ids are per sender (spec 11.7), so
 *                                       deduplication is per device (older nodes: rid:<id hex>)
 *   rb:<member id>                      bytes of the member's stored replies (a counter), for its quota
 *   cnt:<delivery state>                how many device copies are in that state (a counter, see
 *                                       Database `add`), kept in the batches that change them
 *   grp:, gn:, gm:, mg:, gc:            groups of members and who is in which (group-store.ts, `groups`)
 *   blob:, bref:, bgot:                 attachments' blobs, the messages listing them, the devices
 *                                       no longer waited for (fetched them, or left) (blob-store.ts)
 *   rcp:, fc:, fo:, rd:, mc:, bc:       broadcasts: recipient pages, the fan-out's content and cursor,
 *                                       the copies sealed, counts by state (broadcast-store.ts, `broadcasts`)
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

/**
 * Consecutive sequence numbers of one device, from the key's `first` to `last`, delivered by
 * one acknowledgement: the record of a delivery, one per run of an acknowledged batch instead
 * of one per message. Runs never overlap: a sequence number is sealed once, and settled once.
 * (A site that lost its last writes in an unclean start without fsync may seal a number
 * again, but LevelDB loses a suffix of its log: the run of that number's first copy went
 * with the counter.)
 */
interface DeliveryRun {
  last: number
  /** When it was acknowledged. */
  at: number
  /** Key of the signed acknowledgement. */
  ack: string
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
  /** The members it is for (a broadcast's: none here, they are in its recipient pages). */
  members: string[]
  /** The copies sealed when it was accepted (a broadcast's: none here, see `broadcast`). */
  recipients: Recipient[]
  idempotencyKey?: string
  /** A broadcast: accepted at once, sealed per device in the background (broadcast-store.ts); `report` is the send's (REPORT_MODES). */
  broadcast?: { devices: number, report: string }
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

/** A copy as the status read model assembles it, before its proof is read. */
type CopyRow = Omit<CopyStatus, 'proof' | 'state'> & { state: CopyState, ack?: string }

/** The prefix of a cursor in a message's copies: the message id and the index of the next copy follow. */
const COPY_CURSOR = 'cp:'

/** The index a cursor of this message's copies stands for (at most `total`); INVALID_ARGUMENT for any other. */
function copyIndexOfCursor (cursor: string, id: string, total: number): number {
  const k = keyOfCursor(cursor, k => k.startsWith(`${COPY_CURSOR}${id}:`) && /^[0-9]{1,9}$/.test(k.slice(COPY_CURSOR.length + id.length + 1)) && Number(k.slice(COPY_CURSOR.length + id.length + 1)) <= total, 'message devices')
  return Number(k.slice(COPY_CURSOR.length + id.length + 1))
}

/** What a stored reply counts towards its member's quota: the bytes of its record. */
function replyBytes (write: Write): number {
  return write.value?.byteLength ?? 0
}

const key = {
  invite: (hash: string) => `inv:${hash}`,
  member: (id: string) => `mem:${id}`,
  ref: (ref: string) => `ref:${ref}`,
  refRemoved: (ref: string) => `rrm:${ref}`,
  device: (peer: string) => `dev:${peer}`,
  seq: (peer: string) => `seq:${peer}`,
  epoch: (peer: string, epoch: number) => `ep:${peer}:${pad(epoch)}`,
  epochPrefix: (peer: string) => `ep:${peer}:`,
  outbox: (peer: string, rank: number, seq: number) => `ob:${peer}:${rank}:${pad(seq)}`,
  outboxPrefix: (peer: string) => `ob:${peer}:`,
  delivery: (peer: string, first: number) => `dl:${peer}:${pad(first)}`,
  deliveryPrefix: (peer: string) => `dl:${peer}:`,
  status: (id: string, peer: string) => `st:${id}:${peer}`,
  message: (id: string) => `msg:${id}`,
  idempotency: (k: string) => `idem:${k}`,
  topic: (member: string, topic: string) => `tp:${member}:${topic}`,
  ack: (hash: string) => `ack:${hash}`,
  reply: (received: number, id: string, device: string) => `rp:${pad(received)}:${id}:${device}`,
  replyId: (id: string, device: string) => `rid:${id}:${device}`,
  count: (state: DeliveryState) => `cnt:${state}`,
  replyBytes: (member: string) => `rb:${member}`
}

/** The sequence number an outbox key ends with (key.outbox). */
function seqOfOutboxKey (outboxKey: string): number {
  return Number(outboxKey.slice(outboxKey.lastIndexOf(':') + 1))
}

/** A queued envelope as the outbox holds it: `key` is opaque to callers (a cursor, an id to settle). */
export interface OutboxEntry {
  key: string
  /** The encoded Push{envelope}, ready to send. */
  frame: Uint8Array
}

/** A message's copies by state; `pending`: a broadcast's copies not sealed yet. */
export type MessageCounts = Record<CopyState, number>

/** A message's copy for one device, as its status pages list it. */
export interface CopyStatus {
  device: string
  member: string
  /** 0 while pending, or when the copy was never queued. */
  seq: number
  state: CopyState
  at: number
  code?: string
  detail?: string
  /** The device's signed acknowledgement, base64. */
  proof?: string
}

/** A message's state: counts of its copies by state, and a page of its copies in the order resolved (the site API's message status). */
export interface MessageStatus {
  id: string
  created: number
  expires: number
  subject: string
  urgency: string
  topic?: string
  /** Devices it is for, in all. */
  total: number
  counts: MessageCounts
  devices: CopyStatus[]
  /** The cursor of the next page of devices, null at the end. */
  next: string | null
}

/** Device copies of messages by state: `queued` is what the outboxes hold now. */
export type StateCounts = Record<DeliveryState, number>

/** The site's records: typed reads, read models, and named write builders for atomic batches. */
export class SiteStore {
  private readonly db: Database
  /** Groups of members, on the same database (their writes go into the same batches). */
  readonly groups: GroupStore

  /** Broadcasts' recipient pages, fan-out cursors, copies and counts, on the same database. */
  readonly broadcasts: BroadcastStore

  private constructor (db: Database) {
    this.db = db
    this.groups = new GroupStore(db)
    this.broadcasts = new BroadcastStore(db)
  }

  /** The store over an open database; counts the states once if an older node wrote it without counters. */
  static async open (db: Database): Promise<SiteStore> {
    const store = new SiteStore(db)
    if (await db.get(key.count('queued')) === undefined) await store.countOnce()
    return store
  }

  private async countOnce (): Promise<void> {
    const counts = Object.fromEntries(DELIVERY_STATES.map(s => [s, 0])) as StateCounts
    for await (const [, value] of this.db.entries('st:')) counts[decodeJson<SettledRecord>(value).state]++
    counts.queued = await this.db.count('ob:')
    await this.db.write(DELIVERY_STATES.map(s => add(key.count(s), counts[s])))
  }

  /** Commits writes made by the builders below, atomically (gathered with concurrent writes). */
  async write (writes: Write[]): Promise<void> {
    await this.db.write(writes)
  }

  /** True when the node did not stop cleanly last time: without fsync, its last writes (counters too) may be lost. */
  get uncleanStart (): boolean {
    return this.db.uncleanStart
  }

  // membership

  invite = async (hash: string): Promise<InviteRecord | undefined> => await this.db.getJson(key.invite(hash))
  member = async (id: string): Promise<MemberRecord | undefined> => await this.db.getJson(key.member(id))
  device = async (peer: string): Promise<DeviceRecord | undefined> => await this.db.getJson(key.device(peer))

  /** Which of these PeerIds are member devices, in their order. */
  async areDevices (peers: string[]): Promise<boolean[]> {
    return (await this.db.getMany(peers.map(key.device))).map(v => v !== undefined)
  }

  /**
   * The member a name stands for: a member id if the name has the shape of one, else a user
   * reference. The two never overlap: a reference may not have a member id's shape.
   */
  async memberByName (name: string): Promise<MemberRecord | undefined> {
    return isMemberId(name) ? await this.member(name) : await this.memberByRef(name)
  }

  async memberByRef (ref: string): Promise<MemberRecord | undefined> {
    const id = await this.db.getJson<string>(key.ref(ref))
    return id === undefined ? undefined : await this.member(id)
  }

  /** The members of these ids, in their order (undefined where there is none), read in one call. */
  async membersById (ids: string[]): Promise<Array<MemberRecord | undefined>> {
    return (await this.db.getMany(ids.map(key.member))).map(v => v === undefined ? undefined : decodeJson<MemberRecord>(v))
  }

  async * members (): AsyncGenerator<MemberRecord> {
    for await (const [, value] of this.db.entries('mem:')) yield decodeJson<MemberRecord>(value)
  }

  async * devices (): AsyncGenerator<DeviceRecord> {
    for await (const [, value] of this.db.entries('dev:')) yield decodeJson<DeviceRecord>(value)
  }

  putInvite (record: InviteRecord): Write[] {
    return [put(key.invite(record.hash), record)]
  }

  /**
   * A device joins `member` with the invite (now marked used): the member (new, or with the
   * device added), its reference when new, the device and the invite.
   */
  admitDevice (member: MemberRecord, device: DeviceRecord, invite: InviteRecord, isNewMember: boolean): Write[] {
    const writes = [put(key.member(member.id), member), put(key.device(device.peerId), device), put(key.invite(invite.hash), invite)]
    if (isNewMember && member.ref !== '') writes.push(put(key.ref(member.ref), member.id))
    return writes
  }

  /** The device leaves its member (which stays, possibly without devices). */
  detachDevice (device: DeviceRecord, member: MemberRecord | undefined): Write[] {
    const writes = [del(key.device(device.peerId))]
    if (member !== undefined) writes.push(put(key.member(member.id), { ...member, devices: member.devices.filter(d => d !== device.peerId) }))
    return writes
  }

  /** The member, its reference and all its devices go; invites for the reference issued until `at` are revoked. */
  removeMember (member: MemberRecord, at: number): Write[] {
    const writes = [del(key.member(member.id)), ...member.devices.map(peer => del(key.device(peer)))]
    if (member.ref !== '') writes.push(del(key.ref(member.ref)), put(key.refRemoved(member.ref), at))
    return writes
  }

  /** When the member with this reference was last removed, if ever. */
  refRemovedAt = async (ref: string): Promise<number | undefined> => await this.db.getJson(key.refRemoved(ref))

  setDeviceAddrs (device: DeviceRecord, addrs: string[]): Write[] {
    return [put(key.device(device.peerId), { ...device, addrs })]
  }

  // sealing

  async seq (peer: string): Promise<number> {
    return await this.db.getJson<number>(key.seq(peer)) ?? 0
  }

  epoch = async (peer: string, epoch: number): Promise<EpochRecord | undefined> => await this.db.getJson(key.epoch(peer, epoch))

  async latestEpoch (peer: string): Promise<EpochRecord | undefined> {
    const last = await this.db.first(key.epochPrefix(peer), { reverse: true })
    return last === undefined ? undefined : decodeJson<EpochRecord>(last[1])
  }

  async epochs (peer: string): Promise<EpochRecord[]> {
    return (await this.db.range(key.epochPrefix(peer), { limit: -1 })).map(([, value]) => decodeJson<EpochRecord>(value))
  }

  putEpoch (peer: string, record: EpochRecord): Write[] {
    return [put(key.epoch(peer, record.epoch), record)]
  }

  // messages and the outbox

  message = async (id: string): Promise<MessageRecord | undefined> => await this.db.getJson(key.message(id))

  /** The devices a message was sealed for (a broadcast's: as resolved when it was accepted), a page at a time. */
  async * messageDevices (id: string): AsyncGenerator<string[]> {
    const record = await this.message(id)
    if (record?.broadcast === undefined) {
      if (record !== undefined) yield record.recipients.map(r => r.device)
      return
    }
    for (let start = 0; start < record.broadcast.devices; start += RECIPIENT_PAGE) {
      yield (await this.broadcasts.planned(id, start, Math.min(start + RECIPIENT_PAGE, record.broadcast.devices))).map(c => c.device)
    }
  }

  /** The id of the earlier send with this idempotency key, if any. */
  earlierSend = async (idempotencyKey: string): Promise<string | undefined> => await this.db.getJson(key.idempotency(idempotencyKey))

  /** The id of the member's newest message with this topic, if any. */
  topicMessage = async (member: string, topic: string): Promise<string | undefined> => await this.db.getJson(key.topic(member, topic))

  /** The message record, its idempotency key and its topic for each member. */
  recordMessage (message: MessageRecord, topic?: string): Write[] {
    const writes = [put(key.message(message.id), message)]
    if (message.idempotencyKey !== undefined) writes.push(put(key.idempotency(message.idempotencyKey), message.id))
    if (topic !== undefined) for (const member of message.members) writes.push(put(key.topic(member, topic), message.id))
    return writes
  }

  /** The member's newest message with this topic is `id` (a broadcast points each member as it reaches it). */
  pointTopic (member: string, topic: string, id: string): Write[] {
    return [put(key.topic(member, topic), id)]
  }

  /** An envelope sealed for `device` enters its outbox; `seq` becomes its last sequence number. Returns the entry's key too. */
  queueEnvelope (device: string, rank: number, seq: number, frame: Uint8Array): { key: string, writes: Write[] } {
    const outboxKey = key.outbox(device, rank, seq)
    return { key: outboxKey, writes: [put(outboxKey, frame), put(key.seq(device), seq), add(key.count('queued'), 1)] }
  }

  /** A device's copy that never entered its outbox (the queue was full) is settled at once. */
  settleUnqueued (id: string, device: string, record: SettledRecord): Write[] {
    return [put(key.status(id, device), record), add(key.count(record.state), 1)]
  }

  /**
   * Queued entries leave the device's outbox in a final state: delivered, with the signed
   * acknowledgement that proves it (a record per run of consecutive sequence numbers), or
   * another (a record per message).
   */
  settle (device: string, entries: Array<{ key: string, idHex: string }>, record: Omit<SettledRecord, 'ack'>, proof?: Uint8Array): Write[] {
    const writes: Write[] = []
    if (proof !== undefined) {
      const ack = toHex(sha256(proof))
      writes.push(put(key.ack(ack), proof))
      const seqs = entries.map(entry => seqOfOutboxKey(entry.key)).sort((a, b) => a - b)
      for (let i = 0, j = 0; i < seqs.length; i = ++j) {
        while (j + 1 < seqs.length && seqs[j + 1] === seqs[j] + 1) j++
        writes.push(put(key.delivery(device, seqs[i]), { last: seqs[j], at: record.at, ack } satisfies DeliveryRun))
      }
      for (const entry of entries) writes.push(del(entry.key))
    } else {
      const value = encodeJson(record)
      for (const entry of entries) writes.push(del(entry.key), { key: key.status(entry.idHex, device), value })
    }
    writes.push(add(key.count(record.state), entries.length), add(key.count('queued'), -entries.length))
    return writes
  }

  /** The outbox key of a queued status, for `settle`. */
  outboxKeyOf (status: StatusRecord): string {
    return key.outbox(status.device, status.rank, status.seq)
  }

  /** Up to `limit` entries of a device's outbox in send order, after the entry `after`: read in one call. */
  async outboxPage (device: string, options: { after?: string, limit: number }): Promise<OutboxEntry[]> {
    return (await this.db.range(key.outboxPrefix(device), options)).map(([k, frame]) => ({ key: k, frame }))
  }

  /** Every entry of a device's outbox, in send order. */
  async * outbox (device: string): AsyncGenerator<OutboxEntry> {
    for await (const [k, frame] of this.db.entries(key.outboxPrefix(device))) yield { key: k, frame }
  }

  /** Entries in a device's outbox (a scan of its keys: once per device, then kept in memory). */
  async queuedCount (device: string): Promise<number> {
    return await this.db.count(key.outboxPrefix(device))
  }

  async hasOutbox (device: string): Promise<boolean> {
    return await this.db.first(key.outboxPrefix(device)) !== undefined
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

  /** The message's state for each of its devices (from index `start` to `end`), in the order they were sealed; not for a broadcast. */
  async statuses (message: MessageRecord, start = 0, end = message.recipients.length): Promise<StatusRecord[]> {
    const recipients = message.recipients.slice(start, end)
    const states = await this.copyStates(message, recipients)
    return recipients.map((r, i) => ({ ...r, created: message.created, ...states[i] }))
  }

  /**
   * The state of each of a message's copies: its settled record if it has one; else
   * queued while its envelope is in the outbox, and delivered, by the run that holds its
   * sequence number, once it is not.
   */
  private async copyStates (message: MessageRecord, copies: Array<{ device: string, seq: number, rank: number }>): Promise<Array<Omit<SettledRecord, 'state'> & { state: DeliveryState }>> {
    const settled = await this.db.getMany(copies.map(c => key.status(message.id, c.device)))
    // a copy never sealed (seq 0: a broadcast's not reached yet) has no envelope and no delivery
    const open = copies.flatMap((c, i) => settled[i] === undefined && c.seq > 0 ? [i] : [])
    // whether its envelope is still in the outbox, without reading the envelope
    const queued = await this.db.hasMany(open.map(i => key.outbox(copies[i].device, copies[i].rank, copies[i].seq)))
    const states: Array<Omit<SettledRecord, 'state'> & { state: DeliveryState }> = settled.map(raw => raw === undefined ? { state: 'queued', at: message.created } : decodeJson<SettledRecord>(raw))
    await Promise.all(open.map(async (i, k) => {
      if (queued[k]) return
      const run = await this.deliveryRun(copies[i].device, copies[i].seq)
      states[i] = run === undefined ? { state: 'delivered', at: message.created } : { state: 'delivered', at: run.at, ack: run.ack }
    }))
    return states
  }

  /** The run of the device's deliveries that holds this sequence number. */
  private async deliveryRun (device: string, seq: number): Promise<DeliveryRun | undefined> {
    const found = await this.db.last(key.deliveryPrefix(device), key.delivery(device, seq))
    if (found === undefined) return undefined
    const run = decodeJson<DeliveryRun>(found[1])
    return run.last >= seq ? run : undefined
  }

  /** The message's copies for the devices a member has now, sealed and not settled or settled (a topic replaces the queued ones). */
  async memberCopies (message: MessageRecord, member: string): Promise<StatusRecord[]> {
    if (message.broadcast === undefined) return (await this.statuses(message)).filter(s => s.member === member)
    const devices = (await this.member(member))?.devices ?? []
    const copies = await this.broadcasts.copies(message.id, devices)
    const sealed = copies.filter(c => c !== undefined)
    const states = await this.copyStates(message, sealed)
    return sealed.map((c, i) => ({ ...c, created: message.created, ...states[i] }))
  }

  /**
   * A message's counts by state and a page of its copies (at most `limit`, after an opaque
   * cursor from an earlier page), each with the signed receipt (base64) of its delivery;
   * undefined for an unknown message. A cursor this store did not make for this message is
   * INVALID_ARGUMENT.
   */
  async messageStatus (id: string, page: { after?: string, limit: number }): Promise<MessageStatus | undefined> {
    const record = /^[0-9a-f]{32}$/.test(id) ? await this.message(id) : undefined
    if (record === undefined) return undefined
    const total = record.broadcast?.devices ?? record.recipients.length
    const start = page.after === undefined ? 0 : copyIndexOfCursor(page.after, id, total)
    const end = Math.min(total, start + page.limit)
    const copies: CopyRow[] = record.broadcast === undefined ? await this.statuses(record, start, end) : await this.broadcastCopies(record, start, end)
    const proofs = await this.db.getMany(copies.flatMap(s => s.ack === undefined ? [] : [key.ack(s.ack)]))
    let next = 0
    return {
      id,
      created: record.created,
      expires: record.expires,
      subject: record.subject,
      urgency: record.urgency,
      topic: record.topic,
      total,
      counts: await this.messageCounts(record),
      devices: copies.map(s => {
        const proof = s.ack === undefined ? undefined : proofs[next++]
        return { device: s.device, member: s.member, seq: s.seq, state: s.state, at: s.at, code: s.code, detail: s.detail, proof: proof === undefined ? undefined : uint8ArrayToString(proof, 'base64') }
      }),
      next: end < total ? cursorOfKey(`${COPY_CURSOR}${id}:${end}`) : null
    }
  }

  /** A broadcast's copies from index `start` to `end`: pending where the fan-out has not sealed one yet. */
  private async broadcastCopies (record: MessageRecord, start: number, end: number): Promise<CopyRow[]> {
    const planned = await this.broadcasts.planned(record.id, start, end)
    // a copy not sealed yet is pending, or settled without being queued; a sealed one as any other
    const copies = (await this.broadcasts.copies(record.id, planned.map(p => p.device))).map((c, i) => c ?? { device: planned[i].device, seq: 0, rank: 0 })
    const states = await this.copyStates(record, copies)
    return planned.map((p, i) => {
      const state = copies[i].seq === 0 && states[i].state === 'queued' ? { ...states[i], state: 'pending' as const } : states[i]
      return { member: p.member, device: p.device, seq: copies[i].seq, ...state }
    })
  }

  /** A message's copies by state: a broadcast's from its counters, another's from its statuses. */
  private async messageCounts (record: MessageRecord): Promise<MessageCounts> {
    const counts: MessageCounts = { pending: 0, ...Object.fromEntries(DELIVERY_STATES.map(s => [s, 0])) as CopyCounts }
    if (record.broadcast !== undefined) {
      Object.assign(counts, await this.broadcasts.counts(record.id))
      counts.pending = record.broadcast.devices - DELIVERY_STATES.reduce((sum, s) => sum + counts[s], 0)
    } else {
      for (const s of await this.statuses(record)) counts[s.state]++
    }
    return counts
  }

  /** Device copies by state, from the counters: no scan. */
  async counts (): Promise<StateCounts> {
    const values = await Promise.all(DELIVERY_STATES.map(async s => await this.db.counter(key.count(s))))
    return Object.fromEntries(DELIVERY_STATES.map((s, i) => [s, values[i]])) as StateCounts
  }

  // replies

  /** Whether each reply id from this device is stored already (deduplication). */
  async knownReplies (device: string, ids: string[]): Promise<boolean[]> {
    const found = await this.db.getMany(ids.flatMap(id => [key.replyId(id, device), `rid:${id}`]))
    // an older node's index (rid:<id>) names no device: its reply record does
    const legacy = await this.db.getMany(ids.map((_, i) => found[2 * i + 1] === undefined ? '' : decodeJson<string>(found[2 * i + 1] as Uint8Array)))
    return ids.map((_, i) => found[2 * i] !== undefined || (legacy[i] !== undefined && decodeJson<Reply>(legacy[i] as Uint8Array).device === device))
  }

  /** Replies stored, indexed for deduplication, and counted towards their member's quota. */
  putReplies (replies: Reply[]): Write[] {
    return replies.flatMap(r => {
      const replyKey = key.reply(r.received, r.id, r.device)
      const record = put(replyKey, r)
      return [record, put(key.replyId(r.id, r.device), replyKey), add(key.replyBytes(r.member), replyBytes(record))]
    })
  }

  /** Bytes of a member's stored replies (what its quota counts). */
  async replyBytes (member: string): Promise<number> {
    return await this.db.counter(key.replyBytes(member))
  }

  /**
   * Deletes stored replies, oldest first: those received before `before` (retention), or those
   * up to and including the reply a cursor names (collected by the backend). Returns how many.
   */
  async deleteReplies (options: { before?: number, through?: string }): Promise<number> {
    const last = options.through === undefined ? undefined : replyKeyFromCursor(options.through)
    const end = options.before === undefined ? undefined : `rp:${pad(options.before)}`
    let deleted = 0
    for (;;) {
      const page = (await this.db.range('rp:', { limit: 1000 })).filter(([k]) => (last === undefined || k <= last) && (end === undefined || k < end))
      if (page.length === 0) return deleted
      await this.db.write(page.flatMap(([k, value]) => {
        const reply = decodeJson<Reply>(value)
        // an older node's index names no device
        const index = k.split(':').length === 4 ? key.replyId(reply.id, reply.device) : `rid:${reply.id}`
        return [del(k), del(index), add(key.replyBytes(reply.member), -value.byteLength)]
      }))
      deleted += page.length
    }
  }

  /** Replies in the order they were received, after an opaque cursor (from an earlier page). */
  async replies (options: { after?: string, limit: number }): Promise<ReplyView[]> {
    const after = options.after === undefined ? undefined : replyKeyFromCursor(options.after)
    const page = await this.db.range('rp:', { after, limit: options.limit })
    return page.map(([k, value]) => ({ ...decodeJson<Reply>(value), cursor: cursorOfReplyKey(k) }))
  }
}
