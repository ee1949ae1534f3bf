import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import { createKeyEpoch, peerIdFromString, sealEnvelopeMessage, type Ed25519Signer, type EpochKeys } from '../crypto/index.js'
import { EnvelopeHeader, MAX_EPOCH_ENVELOPES, Push, WIRE_VERSION, type ErrorCode } from '../protocol/index.js'
import { Mutex, NodeError } from '../util/index.js'
import { epochKeysFromRecord, epochKeysToRecord, type EpochRecord, type MemberRecord, type MessageRecord, type OutboxEntry, type Recipient, type SettledRecord, type SettledState, type SiteStore, type Write } from '../store/index.js'
import { newMessageId } from './ids.js'
import { RecipientResolver } from './recipients.js'
import { contentEncoder } from './send-content.js'
import { OutboxTails } from './outbox-tails.js'
import type { OutboundQueue, QueuedEnvelope } from './sender.js'
import { validateSend, type SendRequest, type SendResult, type SiteEvent } from './send-request.js'
import { DEFAULT_URGENCY, URGENCY_RANK } from './urgency.js'

export interface SiteOutboxOptions {
  store: SiteStore
  signer: Ed25519Signer
  epochAgeMs: number
  defaultTtlMs: number
  maxTtlMs: number
  now: () => number
  /** Envelopes queued per device; a full device's copy of a send is dropped (QUEUE_FULL). */
  maxQueuePerDevice: number
  /**
   * Seal only under epochs created at or after this time: after an unclean start without
   * fsync, sequence counters may have gone back, and a new epoch (new keys) keeps a rolled-back
   * sequence number from reusing a nonce (spec 11.4). @default 0
   */
  sealSince?: number
  onEvent: (event: SiteEvent) => void
  /** Journals events for the backend in the batch of the change they report (the site's event journal); absent: none kept. */
  journal?: (events: SiteEvent[]) => Write[]
}

interface DeviceState {
  member: string
  /** The device's PeerId as bytes, as each envelope header names it (parsed once). */
  peerId: Uint8Array<ArrayBuffer>
  seq: number
  /** Envelopes in the device's outbox (counted once when the state is loaded, then kept). */
  queued: number
  x25519: string
  epoch?: { record: EpochRecord, keys: EpochKeys }
}

const SWEEP_BATCH = 1000
/**
 * What the sessions' tails hold in memory (outbox-tails.ts): per device above any window, so a
 * device's sender can always take its refill from its tail; in all, some 20 MB of 1 KiB frames.
 */
const TAIL_LIMITS = { perDevice: 2048, total: 16_384 }

/**
 * The site's outbox (spec 11.3, "Sealing"): seals each message once per recipient device under
 * the device's current key epoch, writes envelopes, statuses and counters in one atomic
 * batch, and serves each device's queue to the sender engine.
 */
export class SiteOutbox {
  private readonly opts: SiteOutboxOptions
  private readonly store: SiteStore
  private readonly lock = new Mutex()
  private readonly devices = new Map<string, DeviceState>()
  /** Who a send is for: its members, groups and `all`, resolved once, when it is accepted. */
  private readonly recipients: RecipientResolver
  private readonly listeners = new Map<string, Set<(first?: string) => void>>()
  /** What the running senders have not read yet of their devices' outboxes. */
  private readonly tails = new OutboxTails<SiteQueued>(TAIL_LIMITS)
  private queuedListener?: (peer: string) => void

  private readonly sealSince: number

  constructor (opts: SiteOutboxOptions) {
    this.opts = opts
    this.store = opts.store
    this.recipients = new RecipientResolver(opts.store)
    this.sealSince = opts.sealSince ?? 0
  }

  async send (req: SendRequest): Promise<SendResult> {
    const ttl = req.ttlMs ?? this.opts.defaultTtlMs
    validateSend(req, ttl, this.opts.maxTtlMs)
    const contentFor = contentEncoder(req)
    const rank = URGENCY_RANK[req.urgency ?? DEFAULT_URGENCY]

    const { done, events, result, devices } = await this.lock.run(async () => {
      if (req.idempotencyKey !== undefined) {
        const earlier = await this.store.earlierSend(req.idempotencyKey)
        if (earlier !== undefined) return { done: Promise.resolve(), events: [], result: await this.earlierSend(earlier), devices: new Map<string, SiteQueued>() }
      }
      const addressees = await this.recipients.resolve(req)
      const now = this.opts.now()
      const idBytes = newMessageId()
      const id = uint8ArrayToString(idBytes, 'base16')
      const expires = now + ttl
      const writes: Write[] = []
      /** What the backend hears of this send: copies replaced by it, copies dropped for a full queue. */
      const events: SiteEvent[] = []
      const recipients: Recipient[] = []
      /** The outbox entry written for each device. */
      const touched = new Map<string, SiteQueued>()
      const full: Array<{ member: string, device: string }> = []
      for (const { member, group } of addressees) {
        if (req.topic !== undefined) await this.replaceTopic(member, req.topic, id, now, writes, events)
        for (const device of member.devices) {
          const state = await this.deviceState(device)
          if (state.queued >= this.opts.maxQueuePerDevice) {
            full.push({ member: member.id, device })
            continue
          }
          const epoch = await this.currentEpoch(device, state, now, writes)
          const seq = ++state.seq
          const envelope = sealEnvelopeMessage(epoch.keys.siteToDevice, {
            version: WIRE_VERSION,
            id: idBytes as Uint8Array<ArrayBuffer>,
            sender: this.opts.signer.peerId as Uint8Array<ArrayBuffer>,
            recipient: state.peerId,
            epoch: epoch.record.epoch,
            seq,
            created: now,
            expires
          }, contentFor(group))
          const frame = Push.encode({ envelope })
          const queued = this.store.queueEnvelope(device, rank, seq, frame)
          writes.push(...queued.writes)
          recipients.push({ member: member.id, device, seq, rank })
          touched.set(device, { key: queued.key, idHex: id, epoch: epoch.record.epoch, created: now, expires, frame })
        }
      }
      if (recipients.length === 0 && full.length > 0) {
        throw new NodeError('QUEUE_FULL', `every recipient device has ${this.opts.maxQueuePerDevice} messages queued`)
      }
      if (recipients.length === 0) throw new NodeError('NO_DEVICES', 'none of the recipients has a device')
      // a full device is listed with the others, its copy settled as dropped in the same write
      const dropped: SettledRecord = { state: 'dropped', at: now, code: 'QUEUE_FULL', detail: `${this.opts.maxQueuePerDevice} messages already queued for the device` }
      for (const f of full) {
        recipients.push({ ...f, seq: 0, rank })
        writes.push(...this.store.settleUnqueued(id, f.device, dropped))
        events.push({ type: 'dropped', id, device: f.device, member: f.member, created: now, at: now, code: dropped.code })
      }
      const message: MessageRecord = {
        id,
        created: now,
        expires,
        urgency: req.urgency ?? DEFAULT_URGENCY,
        topic: req.topic,
        subject: req.subject,
        members: addressees.map(a => a.member.id),
        recipients,
        idempotencyKey: req.idempotencyKey
      }
      writes.push(...this.store.recordMessage(message, req.topic), ...this.journal(events))
      // enqueued inside the lock: batches reach LevelDB in the order their counters were taken
      for (const d of touched.keys()) (this.devices.get(d) as DeviceState).queued++
      const done = this.store.write(writes).catch((err: unknown) => {
        for (const d of touched.keys()) this.devices.delete(d)
        throw err
      })
      return { done, events, result: { id, created: now, expires, recipients: recipients.map(r => ({ member: r.member, device: r.device })), duplicate: false }, devices: touched }
    })
    await done
    for (const event of events) this.opts.onEvent(event)
    for (const [device, entry] of devices) {
      // durable now: a running sender may take it from memory
      if (this.listeners.has(device)) this.tails.added(device, entry)
      this.notify(device, entry.key)
    }
    return result
  }

  private async earlierSend (id: string): Promise<SendResult> {
    const message = await this.store.message(id)
    if (message === undefined) throw new NodeError('UNKNOWN_MESSAGE', `message ${id} is gone`)
    return {
      id,
      created: message.created,
      expires: message.expires,
      recipients: message.recipients.map(r => ({ member: r.member, device: r.device })),
      duplicate: true
    }
  }

  private async replaceTopic (member: MemberRecord, topic: string, id: string, now: number, writes: Write[], events: SiteEvent[]): Promise<void> {
    const previous = await this.store.topicMessage(member.id, topic)
    const message = previous === undefined ? undefined : await this.store.message(previous)
    if (message === undefined) return
    const statuses = await this.store.statuses(message)
    for (const status of statuses) {
      if (status.member !== member.id || status.state !== 'queued') continue
      const replaced: SettledRecord = { state: 'replaced', at: now, detail: `replaced by ${id}` }
      writes.push(...this.store.settle(status.device, [{ key: this.store.outboxKeyOf(status), idHex: message.id }], replaced))
      this.dequeued(status.device, 1)
      this.tails.drop(status.device)
      events.push({ type: 'replaced', id: message.id, device: status.device, member: member.id, created: status.created, at: now })
    }
  }

  private async deviceState (device: string): Promise<DeviceState> {
    let state = this.devices.get(device)
    if (state === undefined) {
      const record = await this.store.device(device)
      if (record === undefined) throw new NodeError('UNKNOWN_MEMBER', `device ${device} is not a member device`)
      const epoch = await this.store.latestEpoch(device)
      state = {
        member: record.member,
        peerId: peerIdFromString(device) as Uint8Array<ArrayBuffer>,
        seq: await this.store.seq(device),
        queued: await this.store.queuedCount(device),
        x25519: record.x25519,
        epoch: epoch === undefined ? undefined : { record: epoch, keys: epochKeysFromRecord(epoch) }
      }
      this.devices.set(device, state)
    }
    return state
  }

  /** The epoch to seal under now, starting a new one when the current is old, full or for another key. */
  private async currentEpoch (device: string, state: DeviceState, now: number, writes: Write[]): Promise<NonNullable<DeviceState['epoch']>> {
    const current = state.epoch
    const sealed = current === undefined ? 0 : state.seq - current.record.firstSeq + 1
    if (current !== undefined && now < current.record.expires && sealed < MAX_EPOCH_ENVELOPES && current.record.x25519 === state.x25519 && current.record.created >= this.sealSince) {
      return current
    }
    // time-based numbers (spec 10.3): a site that lost its state never reuses a number the device holds
    const number = Math.max((current?.record.epoch ?? (await this.store.latestEpoch(device))?.epoch ?? 0) + 1, now)
    const made = await createKeyEpoch({
      site: this.opts.signer,
      device: peerIdFromString(device),
      deviceX25519: uint8ArrayFromString(state.x25519, 'base16'),
      epoch: number,
      created: now,
      expires: now + this.opts.epochAgeMs
    })
    const record: EpochRecord = {
      epoch: number,
      created: now,
      expires: now + this.opts.epochAgeMs,
      x25519: state.x25519,
      signed: uint8ArrayToString(made.signed, 'base16'),
      firstSeq: state.seq + 1,
      ...epochKeysToRecord(made.keys)
    }
    state.epoch = { record, keys: made.keys }
    writes.push(...this.store.putEpoch(device, record))
    return state.epoch
  }

  /** The journal's writes for these events (none without a journal). */
  private journal (events: SiteEvent[]): Write[] {
    return this.opts.journal === undefined || events.length === 0 ? [] : this.opts.journal(events)
  }

  /** Forgets a device's cached state (it left, rejoined with a new key, or was removed). */
  forget (device: string): void {
    this.devices.delete(device)
    this.tails.drop(device)
  }

  /** Forgets cached members after a join, leave or removal. */
  membersChanged (): void {
    this.recipients.clear()
  }

  private notify (device: string, first: string): void {
    for (const listener of this.listeners.get(device) ?? []) listener(first)
    this.queuedListener?.(device)
  }

  /** Registers the one listener (the courier) told of each device that has new entries queued. */
  onQueued (listener: (peer: string) => void): void {
    this.queuedListener = listener
  }

  async hasWork (device: string): Promise<boolean> {
    // a device whose state is loaded has its queue counted: no LevelDB iterator for the common
    // answer (a reconnecting device with envelopes waiting); a count of 0 is checked in the store
    if ((this.devices.get(device)?.queued ?? 0) > 0) return true
    return await this.store.hasOutbox(device)
  }

  /** The sender engine's view of one device's outbox. */
  queue (device: string): OutboundQueue<SiteQueued> {
    return {
      next: async (limit, after, exclude) => await this.next(device, limit, after, exclude),
      epochFrame: async (epoch) => {
        const record = await this.store.epoch(device, epoch)
        if (record === undefined) throw new NodeError('UNKNOWN_MESSAGE', `epoch ${epoch} of ${device} is missing`)
        return uint8ArrayFromString(record.signed, 'base16')
      },
      acknowledged: async (entries, proof, at) => { await this.settle(device, entries, 'delivered', at, { ack: proof }) },
      rejected: async (entry, code, detail) => { await this.settle(device, [entry], 'rejected', this.opts.now(), { code, detail }) },
      subscribe: (listener) => {
        let set = this.listeners.get(device)
        if (set === undefined) {
          set = new Set()
          this.listeners.set(device, set)
        }
        set.add(listener)
        return () => {
          set.delete(listener)
          if (set.size > 0) return
          this.listeners.delete(device)
          this.tails.ended(device)
        }
      }
    }
  }

  private async next (device: string, limit: number, after: string | undefined, exclude: ReadonlySet<string>): Promise<SiteQueued[]> {
    const now = this.opts.now()
    const isExpired = (entry: SiteQueued): boolean => entry.expires !== 0 && now >= entry.expires
    const taken = this.tails.take(device, after, limit)
    if (taken !== undefined) {
      const expiredNow = taken.filter(isExpired)
      if (expiredNow.length === 0) return taken
      await this.settle(device, expiredNow, 'expired', now, { code: 'EXPIRED' })
      return taken.filter(entry => !isExpired(entry))
    }
    const version = this.tails.version(device)
    const out: SiteQueued[] = []
    const expired: SiteQueued[] = []
    // pages big enough to hold `limit` entries besides those in flight, read in one call each
    const pageSize = limit + exclude.size
    const full = (): boolean => out.length >= limit || expired.length >= SWEEP_BATCH
    let cursor = after
    let end = false
    while (!full()) {
      const page = await this.store.outboxPage(device, { after: cursor, limit: pageSize })
      for (const stored of page) {
        if (exclude.has(stored.key)) continue
        const entry = toQueued(stored)
        if (isExpired(entry)) expired.push(entry)
        else out.push(entry)
        if (full()) break
      }
      if (page.length < pageSize) {
        end = !full()
        break
      }
      cursor = page[page.length - 1].key
    }
    if (expired.length > 0) await this.settle(device, expired, 'expired', now, { code: 'EXPIRED' })
    // the whole rest of the outbox was read: what is queued next can come from memory
    else if (end && this.listeners.has(device)) this.tails.established(device, version, out.at(-1)?.key ?? after)
    return out
  }

  /** Moves entries out of the outbox into a final state, in one write. */
  private async settle (device: string, entries: SiteQueued[], state: SettledState, at: number, extra: { ack?: Uint8Array, code?: ErrorCode | string, detail?: string }): Promise<void> {
    if (entries.length === 0) return
    const member = await this.memberOf(device, entries[0].idHex)
    const events: SiteEvent[] = entries.map(entry => ({ type: state, id: entry.idHex, device, member, created: entry.created, at, code: extra.code }))
    await this.store.write([...this.store.settle(device, entries, { state, at, code: extra.code, detail: extra.detail }, extra.ack), ...this.journal(events)])
    this.dequeued(device, entries.length)
    for (const event of events) this.opts.onEvent(event)
  }

  private dequeued (device: string, count: number): void {
    const state = this.devices.get(device)
    if (state !== undefined) state.queued = Math.max(0, state.queued - count)
  }

  /** The member a device belongs (or belonged) to: from memory, else from a message sealed for it. */
  private async memberOf (device: string, idHex: string): Promise<string> {
    const cached = this.devices.get(device)
    if (cached !== undefined) return cached.member
    const message = await this.store.message(idHex)
    return message?.recipients.find(r => r.device === device)?.member ?? ''
  }

  /** Marks every expired envelope in every outbox expired (the retry loop only sees reachable devices). */
  async sweepExpired (): Promise<number> {
    const now = this.opts.now()
    let count = 0
    for await (const device of this.store.devicesWithOutbox()) {
      let batch: SiteQueued[] = []
      for await (const stored of this.store.outbox(device)) {
        const entry = toQueued(stored)
        if (entry.expires !== 0 && now >= entry.expires) batch.push(entry)
        if (batch.length >= SWEEP_BATCH) {
          this.tails.drop(device)
          await this.settle(device, batch, 'expired', now, { code: 'EXPIRED' })
          count += batch.length
          batch = []
        }
      }
      if (batch.length > 0) {
        this.tails.drop(device)
        await this.settle(device, batch, 'expired', now, { code: 'EXPIRED' })
      }
      count += batch.length
    }
    return count
  }

  /** Drops a device's queued envelopes (it left or was removed): their status becomes dropped. */
  async dropDevice (device: string, detail: string): Promise<void> {
    // under the send lock: a removal and the courier finding the device gone both drop it, and
    // two reads of the same entries would settle (and count) them twice
    await this.lock.run(async () => {
      const entries: SiteQueued[] = []
      for await (const stored of this.store.outbox(device)) entries.push(toQueued(stored))
      for (let i = 0; i < entries.length; i += SWEEP_BATCH) {
        await this.settle(device, entries.slice(i, i + SWEEP_BATCH), 'dropped', this.opts.now(), { detail })
      }
      this.forget(device)
    })
  }
}

/** An outbox entry with what the site reads from its header. */
interface SiteQueued extends QueuedEnvelope {
  created: number
  expires: number
}

function toQueued ({ key, frame }: OutboxEntry): SiteQueued {
  const push = Push.decode(frame)
  const header = EnvelopeHeader.decode(push.envelope?.header ?? new Uint8Array(0))
  return { key, idHex: uint8ArrayToString(header.id, 'base16'), epoch: header.epoch, created: header.created, expires: header.expires, frame }
}
