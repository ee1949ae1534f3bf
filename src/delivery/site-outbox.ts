import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import type { Logger } from '@libp2p/interface'
import type { Ed25519Signer } from '../crypto/index.js'
import type { ErrorCode } from '../protocol/index.js'
import { Mutex, NodeError, toHex } from '../util/index.js'
import type { BroadcastEvent, MessageRecord, PlannedCopy, Recipient, SettledRecord, SettledState, SiteStore, Write } from '../store/index.js'
import { storedContent } from './broadcast-content.js'
import { BroadcastTally } from './broadcast-tally.js'
import { CopySealer, toQueued, type CopyMessage, type SiteQueued } from './copy-sealer.js'
import { FanoutRunner } from './fanout-runner.js'
import { messageIdFromHex, newMessageId } from './ids.js'
import { RecipientResolver, type Addressee } from './recipients.js'
import { contentEncoder } from './send-content.js'
import { OutboxTails } from './outbox-tails.js'
import type { OutboundQueue } from './sender.js'
import { validateSend, type SendRequest, type SendResult, type SiteEvent } from './send-request.js'
import { DEFAULT_URGENCY, isUrgency, URGENCY_RANK } from './urgency.js'

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
  /** A send to at most this many devices is sealed in the send; one to more is a broadcast, fanned out in the background. */
  directMaxDevices: number
  /** Devices a broadcast's fan-out seals per batch (one lock, one write). */
  fanoutBatch: number
  /** Device states kept in memory at most. */
  deviceCacheSize: number
  /**
   * Frames the device streams together may hold in flight beyond IN_FLIGHT_PER_STREAM each (a
   * window above it draws on this budget): what bounds the site's memory of frames in flight
   * across all its streams. @default SHARED_IN_FLIGHT
   */
  sharedInFlight?: number
  onEvent: (event: SiteEvent) => void
  /** Every copy of a broadcast settled. */
  onBroadcast: (event: BroadcastEvent) => void
  /** Journals events for the backend in the batch of the change they report (the site's event journal); absent: none kept. */
  journal?: (events: Array<SiteEvent | BroadcastEvent>) => Write[]
  log: Logger
}

const SWEEP_BATCH = 1000
/**
 * What the sessions' tails hold in memory (outbox-tails.ts): per device above any window, so a
 * device's sender can always take its refill from its tail; in all, some 20 MB of 1 KiB frames.
 */
const TAIL_LIMITS = { perDevice: 2048, total: 16_384 }
/** A fan-out batch that failed is tried again after this long. */
const FANOUT_RETRY_MS = 1_000
/** Frames every device stream may hold in flight whatever the others hold (the window 256 allowed before the budget). */
export const IN_FLIGHT_PER_STREAM = 256
/**
 * Frames the streams together may hold in flight beyond IN_FLIGHT_PER_STREAM each: ~20 MB of
 * 1 KiB frames. A wider window costs W1 fewer acknowledgements and group commits (+14 % at
 * 1,024, docs/BENCHMARKS.md row 13), and this keeps 1,000 devices reconnecting with backlogs
 * from holding ~1.2 GB of frames at once.
 */
export const SHARED_IN_FLIGHT = 16_384

/** The broadcast being fanned out, as its batches need it (what is durable is re-read at a restart). */
interface FanoutJob {
  message: MessageRecord
  copy: Omit<CopyMessage, 'created'>
  next: number
  contentFor: (group?: string) => Uint8Array
  labels: string[]
}

/**
 * The site's outbox (spec 11.3, "Sealing"): seals each message once per recipient device under
 * the device's current key epoch and serves each device's queue to the sender engine. A send
 * to few devices is sealed in the send, its envelopes, statuses and counters in one atomic
 * batch; a broadcast (more devices, or a report once) is accepted at once, its recipients
 * written in pages, and sealed in the background in bounded batches (`fanoutStep`), each of
 * which moves a durable cursor in the same write: after a crash the fan-out resumes where its
 * last write left it, and no device gets two copies.
 */
export class SiteOutbox {
  private readonly opts: SiteOutboxOptions
  private readonly store: SiteStore
  private readonly lock = new Mutex()
  private readonly sealer: CopySealer
  /** Who a send is for: its members, groups and `all`, resolved once, when it is accepted. */
  private readonly recipients: RecipientResolver
  private readonly listeners = new Map<string, Set<(first?: string) => void>>()
  /** What the running senders have not read yet of their devices' outboxes. */
  private readonly tails = new OutboxTails<SiteQueued>(TAIL_LIMITS)
  private readonly tally: BroadcastTally
  private readonly fanout: FanoutRunner
  /** The broadcast being fanned out (one at a time). */
  private job?: FanoutJob
  private queuedListener?: (peer: string) => void
  /** Frames handed to each device's running sender and not settled through it yet. */
  private readonly inFlight = new Map<string, number>()
  /** What is left of the shared budget (SiteOutboxOptions.sharedInFlight). */
  private sharedFree: number

  constructor (opts: SiteOutboxOptions) {
    this.opts = opts
    this.store = opts.store
    this.recipients = new RecipientResolver(opts.store)
    this.sealer = new CopySealer({ store: opts.store, signer: opts.signer, epochAgeMs: opts.epochAgeMs, maxQueuePerDevice: opts.maxQueuePerDevice, sealSince: opts.sealSince ?? 0, cacheSize: opts.deviceCacheSize })
    this.tally = new BroadcastTally(opts.store)
    this.fanout = new FanoutRunner({ step: async id => await this.fanoutStep(id), log: opts.log, retryMs: FANOUT_RETRY_MS })
    this.sharedFree = opts.sharedInFlight ?? SHARED_IN_FLIGHT
  }

  /** Loads the counts of the broadcasts not settled yet: before any copy settles. */
  async loadBroadcasts (): Promise<void> {
    await this.tally.load()
  }

  /** Resumes the fan-outs a stop or crash interrupted, from their durable cursors. */
  async resumeFanouts (): Promise<void> {
    for await (const id of this.store.broadcasts.fanningOut()) this.fanout.add(id)
  }

  /** Starts no further fan-out batch; resolves when the running one is written. */
  async stop (): Promise<void> {
    await this.fanout.stop()
  }

  async send (req: SendRequest): Promise<SendResult> {
    const ttl = req.ttlMs ?? this.opts.defaultTtlMs
    validateSend(req, ttl, this.opts.maxTtlMs)
    const contentFor = contentEncoder(req)
    const rank = URGENCY_RANK[req.urgency ?? DEFAULT_URGENCY]

    const accepted = await this.lock.run(async () => {
      if (req.idempotencyKey !== undefined) {
        const earlier = await this.store.earlierSend(req.idempotencyKey)
        if (earlier !== undefined) return { done: Promise.resolve(), result: await this.earlierSend(earlier) }
      }
      const addressees = await this.recipients.resolve(req)
      const now = this.opts.now()
      const idBytes = newMessageId()
      const message: CopyMessage = { idBytes, idHex: toHex(idBytes), created: now, expires: now + ttl, rank }
      let devices = 0
      for (const a of addressees) devices += a.member.devices.length
      if (devices === 0) throw new NodeError('NO_DEVICES', 'none of the recipients has a device')
      return devices > this.opts.directMaxDevices || req.report === 'once'
        ? this.acceptBroadcast(req, addressees, devices, message, contentFor())
        : await this.sealNow(req, addressees, message, contentFor)
    })
    await accepted.done
    if ('after' in accepted) accepted.after()
    return accepted.result
  }

  /**
   * A send to few devices: each copy sealed now, in one write with the message record. Called
   * under the lock; the write is enqueued in it (batches reach LevelDB in the order their
   * counters were taken), `after` runs once it is durable.
   */
  private async sealNow (req: SendRequest, addressees: Addressee[], message: CopyMessage, contentFor: (group?: string) => Uint8Array): Promise<{ done: Promise<void>, result: SendResult, after: () => void }> {
    const { idHex: id, created: now, rank } = message
    const writes: Write[] = []
    /** What the backend hears of this send: copies replaced by it, copies dropped for a full queue. */
    const events: SiteEvent[] = []
    /** Broadcasts whose last copy this send replaced. */
    const finished: BroadcastEvent[] = []
    const recipients: Recipient[] = []
    /** The outbox entry written for each device. */
    const touched = new Map<string, SiteQueued>()
    const full: Array<{ member: string, device: string }> = []
    await this.sealing(touched, async () => {
      for (const { member, group } of addressees) {
        if (req.topic !== undefined) await this.replaceTopic(member.id, req.topic, id, now, writes, events, finished)
        for (const device of member.devices) {
          const outcome = await this.sealer.seal(device, message, contentFor(group), writes)
          if ('gone' in outcome) throw new NodeError('UNKNOWN_MEMBER', `device ${device} is not a member device`)
          if ('full' in outcome) {
            full.push({ member: member.id, device })
            continue
          }
          recipients.push({ member: member.id, device, seq: outcome.seq, rank })
          touched.set(device, outcome.sealed)
        }
      }
    })
    if (recipients.length === 0) throw new NodeError('QUEUE_FULL', `every recipient device has ${this.opts.maxQueuePerDevice} messages queued`)
    // a full device is listed with the others, its copy settled as dropped in the same write
    const dropped: SettledRecord = { state: 'dropped', at: now, code: 'QUEUE_FULL', detail: `${this.opts.maxQueuePerDevice} messages already queued for the device` }
    const droppedEvents: SiteEvent[] = full.map(f => ({ type: 'dropped', id, device: f.device, member: f.member, created: now, at: now, code: dropped.code }))
    for (const f of full) {
      recipients.push({ ...f, seq: 0, rank })
      writes.push(...this.store.settleUnqueued(id, f.device, dropped))
    }
    const record = messageRecord(req, message, { members: addressees.map(a => a.member.id), recipients })
    writes.push(...this.store.recordMessage(record, req.topic), ...this.journal(droppedEvents))
    const done = this.written(writes, touched.keys())
    const after = (): void => {
      for (const event of [...events, ...droppedEvents]) this.opts.onEvent(event)
      for (const event of finished) this.opts.onBroadcast(event)
      this.queued(touched)
    }
    return { done, after, result: { id, created: now, expires: message.expires, devices: recipients.length, fanout: false, recipients: recipients.map(r => ({ member: r.member, device: r.device })), duplicate: false } }
  }

  /**
   * A broadcast: the message record, its recipients in pages and what to seal, in one write;
   * the fan-out seals the copies once that is durable. Called under the lock.
   */
  private acceptBroadcast (req: SendRequest, addressees: Addressee[], devices: number, message: CopyMessage, content: Uint8Array): { done: Promise<void>, result: SendResult, after: () => void } {
    const { idHex: id, created: now } = message
    const labels: string[] = []
    const copies: PlannedCopy[] = []
    for (const { member, group } of addressees) {
      let label = -1
      if (group !== undefined) {
        label = labels.indexOf(group)
        if (label < 0) label = labels.push(group) - 1
      }
      for (const device of member.devices) copies.push({ member: member.id, device, label })
    }
    const report = req.report ?? 'per-device'
    const record = messageRecord(req, message, { members: [], recipients: [], broadcast: { devices, report } })
    this.tally.track(id, devices, report, now)
    const done = this.store.write([...this.store.recordMessage(record), ...this.store.broadcasts.plan(id, copies, { content: uint8ArrayToString(content, 'base64'), labels })])
    return { done, after: () => { this.fanout.add(id) }, result: { id, created: now, expires: message.expires, devices, fanout: true, recipients: [], duplicate: false } }
  }

  /**
   * Seals the next batch of a broadcast's copies (at most `fanoutBatch` devices) and moves its
   * cursor, in one write; false once every device has its copy (or its copy's final state: a
   * full queue drops it, an expired message expires it, a device gone drops it, a newer message
   * with the topic replaces it).
   */
  async fanoutStep (id: string): Promise<boolean> {
    const batch = await this.lock.run(async () => {
      const job = await this.fanoutJob(id)
      if (job === undefined) return undefined
      const { message } = job
      const now = this.opts.now()
      const devices = message.broadcast?.devices ?? 0
      const end = Math.min(devices, job.next + this.opts.fanoutBatch)
      const planned = await this.store.broadcasts.planned(id, job.next, end)
      const writes: Write[] = []
      /** Copies of this broadcast settled without being queued; copies of older messages its topic replaced. */
      const own: SiteEvent[] = []
      const events: SiteEvent[] = []
      const finished: BroadcastEvent[] = []
      const touched = new Map<string, SiteQueued>()
      const settleUnqueued = (p: PlannedCopy, record: SettledRecord): void => {
        writes.push(...this.store.settleUnqueued(id, p.device, record))
        own.push({ type: record.state, id, device: p.device, member: p.member, created: message.created, at: now, code: record.code })
      }
      /** Per member this batch reached: the newer message of the topic that replaces its copies, if one does. */
      const newerOf = new Map<string, string | undefined>()
      /** The message as this batch seals every copy of it. */
      const copy: CopyMessage = { ...job.copy, created: now }
      await this.sealing(touched, async () => {
        for (const p of planned) {
          if (now >= message.expires) {
            settleUnqueued(p, { state: 'expired', at: now, code: 'EXPIRED' })
            continue
          }
          if (message.topic !== undefined) {
            if (!newerOf.has(p.member)) newerOf.set(p.member, await this.replaceTopic(p.member, message.topic, id, now, writes, events, finished, message.created))
            const newer = newerOf.get(p.member)
            if (newer !== undefined) {
              settleUnqueued(p, { state: 'replaced', at: now, detail: `replaced by ${newer}` })
              continue
            }
          }
          const content = job.contentFor(p.label < 0 ? undefined : job.labels[p.label])
          const outcome = await this.sealer.seal(p.device, copy, content, writes)
          if ('gone' in outcome) settleUnqueued(p, { state: 'dropped', at: now, detail: 'the device is no longer a member' })
          else if ('full' in outcome) settleUnqueued(p, { state: 'dropped', at: now, code: 'QUEUE_FULL', detail: `${this.opts.maxQueuePerDevice} messages already queued for the device` })
          else {
            writes.push(...this.store.broadcasts.putCopy(id, { member: p.member, device: p.device, seq: outcome.seq, rank: job.copy.rank }))
            touched.set(p.device, outcome.sealed)
          }
        }
      })
      writes.push(...this.tally.queued(id, touched.size), ...this.settledCopies(own, false, finished), ...this.store.broadcasts.advance(id, end, end >= devices))
      return { job, end, written: this.written(writes, touched.keys()), touched, events: [...events, ...own], finished, more: end < devices }
    })
    if (batch === undefined) return false
    try {
      await batch.written
    } catch (err) {
      // the next try starts again from the durable cursor
      this.job = undefined
      throw err
    }
    batch.job.next = batch.end
    if (!batch.more) this.job = undefined
    for (const event of batch.events) this.opts.onEvent(event)
    for (const event of batch.finished) this.opts.onBroadcast(event)
    this.queued(batch.touched)
    return batch.more
  }

  /** The broadcast being fanned out, from the store at its first batch (or after a restart). */
  private async fanoutJob (id: string): Promise<FanoutJob | undefined> {
    if (this.job?.message.id === id) return this.job
    const [message, next, content] = await Promise.all([this.store.message(id), this.store.broadcasts.cursor(id), this.store.broadcasts.content(id)])
    if (message?.broadcast === undefined || next === undefined || content === undefined) return undefined
    this.job = {
      message,
      copy: { idBytes: messageIdFromHex(id, 'id'), idHex: id, expires: message.expires, rank: URGENCY_RANK[isUrgency(message.urgency) ? message.urgency : DEFAULT_URGENCY] },
      next,
      contentFor: storedContent(uint8ArrayFromString(content.content, 'base64')),
      labels: content.labels
    }
    return this.job
  }

  /** Runs `seal`, which seals copies into `touched`; if it throws, nothing is written: their states go back to the store's. */
  private async sealing (touched: Map<string, SiteQueued>, seal: () => Promise<void>): Promise<void> {
    try {
      await seal()
    } catch (err) {
      this.sealer.states.unpin(touched.keys(), true)
      throw err
    }
  }

  /** Enqueues a write that carries new sequence numbers of these devices (sealed, so pinned): their states are unpinned when it lands. */
  private async written (writes: Write[], devices: Iterable<string>): Promise<void> {
    const pinned = [...devices]
    try {
      await this.store.write(writes)
    } catch (err) {
      this.sealer.states.unpin(pinned, true)
      throw err
    }
    this.sealer.states.unpin(pinned, false)
  }

  /** Durable now: a running sender may take each entry from memory; the courier hears of each device. */
  private queued (entries: Map<string, SiteQueued>): void {
    for (const [device, entry] of entries) {
      if (this.listeners.has(device)) this.tails.added(device, entry)
      this.notify(device, entry.key)
    }
  }

  private async earlierSend (id: string): Promise<SendResult> {
    const message = await this.store.message(id)
    if (message === undefined) throw new NodeError('UNKNOWN_MESSAGE', `message ${id} is gone`)
    return {
      id,
      created: message.created,
      expires: message.expires,
      devices: message.broadcast?.devices ?? message.recipients.length,
      fanout: message.broadcast !== undefined,
      recipients: message.recipients.map(r => ({ member: r.member, device: r.device })),
      duplicate: true
    }
  }

  /**
   * The member's queued copy of its previous message with this topic is replaced by `id`, and
   * the topic points at `id`. A broadcast fanning out (`created`: when it was sent) may find the
   * topic already at a newer message: then nothing changes and that message's id is returned
   * (the broadcast's own copy is the one replaced).
   */
  private async replaceTopic (member: string, topic: string, id: string, now: number, writes: Write[], events: SiteEvent[], finished: BroadcastEvent[], created?: number): Promise<string | undefined> {
    const previous = await this.store.topicMessage(member, topic)
    const message = previous === undefined || previous === id ? undefined : await this.store.message(previous)
    if (created !== undefined && message !== undefined && message.created > created) return message.id
    if (created !== undefined) writes.push(...this.store.pointTopic(member, topic, id))
    if (message === undefined) return undefined
    const replaced: SettledRecord = { state: 'replaced', at: now, detail: `replaced by ${id}` }
    const settled: SiteEvent[] = []
    for (const status of await this.store.memberCopies(message, member)) {
      if (status.state !== 'queued') continue
      writes.push(...this.store.settle(status.device, [{ key: this.store.outboxKeyOf(status), idHex: message.id }], replaced))
      this.dequeued(status.device, 1)
      this.tails.drop(status.device)
      settled.push({ type: 'replaced', id: message.id, device: status.device, member, created: status.created, at: now })
    }
    writes.push(...this.settledCopies(settled, true, finished))
    events.push(...settled)
    return undefined
  }

  /** The journal's writes for these events (none without a journal). */
  private journal (events: Array<SiteEvent | BroadcastEvent>): Write[] {
    return this.opts.journal === undefined || events.length === 0 ? [] : this.opts.journal(events)
  }

  /** Forgets a device's cached state (it left, rejoined with a new key, or was removed). */
  forget (device: string): void {
    this.sealer.states.delete(device)
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
    if ((this.sealer.states.peek(device)?.queued ?? 0) > 0) return true
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
      acknowledged: async (entries, proof, at) => {
        await this.settle(device, entries, 'delivered', at, { ack: proof })
        this.returned(device, entries.length)
      },
      rejected: async (entry, code, detail) => {
        await this.settle(device, [entry], 'rejected', this.opts.now(), { code, detail })
        this.returned(device, 1)
      },
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
          // its senders stopped: what they held in flight stays in the outbox, and is theirs no more
          this.returned(device, Infinity)
        }
      }
    }
  }

  private async next (device: string, wanted: number, after: string | undefined, exclude: ReadonlySet<string>): Promise<SiteQueued[]> {
    const limit = this.grant(device, wanted)
    if (limit === 0) return []
    // reserved while the store is read: two streams reading at once cannot both take what is left
    this.handed(device, limit)
    let out: SiteQueued[] = []
    try {
      out = await this.read(device, limit, after, exclude)
    } finally {
      this.returned(device, limit - out.length)
    }
    return out
  }

  /** How many of `wanted` more frames the device's sender may hold: up to IN_FLIGHT_PER_STREAM in all, beyond it what the shared budget has left. */
  private grant (device: string, wanted: number): number {
    const held = this.inFlight.get(device) ?? 0
    return Math.min(wanted, Math.max(0, IN_FLIGHT_PER_STREAM - held) + this.sharedFree)
  }

  private handed (device: string, count: number): void {
    this.moveInFlight(device, (this.inFlight.get(device) ?? 0) + count)
  }

  /** Frames the device's sender no longer holds (settled through it, or all of them once it stopped). */
  private returned (device: string, count: number): void {
    this.moveInFlight(device, Math.max(0, (this.inFlight.get(device) ?? 0) - count))
  }

  /** Sets what the device's senders hold in flight; the part above IN_FLIGHT_PER_STREAM is taken from (or given back to) the shared budget. */
  private moveInFlight (device: string, held: number): void {
    const beyond = (n: number): number => Math.max(0, n - IN_FLIGHT_PER_STREAM)
    this.sharedFree -= beyond(held) - beyond(this.inFlight.get(device) ?? 0)
    if (held === 0) this.inFlight.delete(device)
    else this.inFlight.set(device, held)
  }

  private async read (device: string, limit: number, after: string | undefined, exclude: ReadonlySet<string>): Promise<SiteQueued[]> {
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
    // pages big enough to hold `limit` entries besides those in flight that the range can hold, read
    // in one call each: reading on from the cursor, what is in flight mostly sorts before it
    const pageSize = limit + excludedAfter(exclude, after)
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
    const finished: BroadcastEvent[] = []
    await this.store.write([...this.store.settle(device, entries, { state, at, code: extra.code, detail: extra.detail }, extra.ack), ...this.settledCopies(events, true, finished)])
    this.dequeued(device, entries.length)
    for (const event of events) this.opts.onEvent(event)
    for (const event of finished) this.opts.onBroadcast(event)
  }

  /**
   * The writes that go with copies that settled (`fromQueue`: they left an outbox): the journal's
   * events, but not those of a broadcast that reports once; its counts, and its completion
   * (added to `finished`, journaled if it reports once) when its last copy settled.
   */
  private settledCopies (events: SiteEvent[], fromQueue: boolean, finished: BroadcastEvent[]): Write[] {
    // the common case, no broadcast in progress: nothing to count per message
    if (this.tally.empty) return this.journal(events)
    const writes: Write[] = []
    const journaled: Array<SiteEvent | BroadcastEvent> = []
    const byMessage = new Map<string, SiteEvent[]>()
    for (const event of events) {
      const list = byMessage.get(event.id)
      if (list === undefined) byMessage.set(event.id, [event])
      else list.push(event)
    }
    for (const [id, list] of byMessage) {
      const once = this.tally.reportsOnce(id)
      if (!once) journaled.push(...list)
      const byState = new Map<SettledState, number>()
      for (const event of list) byState.set(event.type, (byState.get(event.type) ?? 0) + 1)
      for (const [state, n] of byState) {
        const change = this.tally.settled(id, state, n, fromQueue, list[0].at)
        writes.push(...change.writes)
        if (change.done === undefined) continue
        finished.push(change.done)
        if (once) journaled.push(change.done)
      }
    }
    return [...writes, ...this.journal(journaled)]
  }

  private dequeued (device: string, count: number): void {
    const state = this.sealer.states.peek(device)
    if (state !== undefined) state.queued = Math.max(0, state.queued - count)
  }

  /** The member a device belongs (or belonged) to: from memory, else from the copy sealed for it. */
  private async memberOf (device: string, idHex: string): Promise<string> {
    const cached = this.sealer.states.peek(device)
    if (cached !== undefined) return cached.member
    const message = await this.store.message(idHex)
    if (message?.broadcast !== undefined) return (await this.store.broadcasts.copies(idHex, [device]))[0]?.member ?? ''
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

/** How many of the keys to skip sort after `after` (all of them from the start): what a page of the outbox read from there may hold of them. */
function excludedAfter (exclude: ReadonlySet<string>, after: string | undefined): number {
  if (after === undefined) return exclude.size
  let n = 0
  for (const key of exclude) if (key > after) n++
  return n
}

/** The record of an accepted message: the send's attributes, and who it is for as the path that accepted it keeps that. */
function messageRecord (req: SendRequest, message: CopyMessage, addressed: Pick<MessageRecord, 'members' | 'recipients' | 'broadcast'>): MessageRecord {
  return {
    id: message.idHex,
    created: message.created,
    expires: message.expires,
    urgency: req.urgency ?? DEFAULT_URGENCY,
    topic: req.topic,
    subject: req.subject,
    idempotencyKey: req.idempotencyKey,
    ...addressed
  }
}
