import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { createKeyEpoch, peerIdFromString, sealPushFrame, type Ed25519Signer } from '../crypto/index.js'
import { MAX_EPOCH_ENVELOPES, pushedEnvelopeHeader, WIRE_VERSION } from '../protocol/index.js'
import { epochKeysFromRecord, epochKeysToRecord, type EpochRecord, type OutboxEntry, type SiteStore, type Write } from '../store/index.js'
import { DeviceStates, type DeviceState } from './device-states.js'
import type { QueuedEnvelope } from './sender.js'
import { toHex } from '../util/index.js'

export interface CopySealerOptions {
  store: SiteStore
  signer: Ed25519Signer
  epochAgeMs: number
  /** Envelopes queued per device; a full device's copy is not sealed (QUEUE_FULL). */
  maxQueuePerDevice: number
  /** Seal only under epochs created at or after this time (see SiteOutboxOptions.sealSince). */
  sealSince: number
  /** Device states kept in memory at most. */
  cacheSize: number
}

/** An outbox entry with what the site reads from its header. */
export interface SiteQueued extends QueuedEnvelope {
  created: number
  expires: number
}

/** One message as each of its copies is sealed: the same id, times and urgency for every device. */
export interface CopyMessage {
  idBytes: Uint8Array
  idHex: string
  created: number
  expires: number
  rank: number
}

/** What became of one device's copy: sealed and queued (the writes were added), or not sealed. */
export type SealOutcome = { sealed: SiteQueued, seq: number, member: string } | { full: true } | { gone: true }

/**
 * Seals one message for one device (spec 11.3, 11.4): under the device's current key epoch
 * (a new one when it is old, full or for another key), with the device's next sequence number,
 * into its outbox, the new sequence number in the same writes. Keeps the device states it
 * seals with (device-states.ts): a state it sealed with is pinned at once, and the caller, which
 * holds the outbox's lock, unpins it when its write landed (or failed).
 */
export class CopySealer {
  readonly states: DeviceStates
  private readonly opts: CopySealerOptions

  constructor (opts: CopySealerOptions) {
    this.opts = opts
    this.states = new DeviceStates(opts.cacheSize)
  }

  async seal (device: string, message: CopyMessage, content: Uint8Array, writes: Write[]): Promise<SealOutcome> {
    const state = await this.state(device)
    if (state === undefined) return { gone: true }
    if (state.queued >= this.opts.maxQueuePerDevice) return { full: true }
    const epoch = await this.currentEpoch(device, state, message.created, writes)
    const seq = ++state.seq
    this.states.pin([device])
    const frame = sealPushFrame(epoch.keys.siteToDevice, {
      version: WIRE_VERSION,
      id: message.idBytes as Uint8Array<ArrayBuffer>,
      sender: this.opts.signer.peerId as Uint8Array<ArrayBuffer>,
      recipient: state.peerId,
      epoch: epoch.record.epoch,
      seq,
      created: message.created,
      expires: message.expires
    }, content)
    const queued = this.opts.store.queueEnvelope(device, message.rank, seq, frame)
    writes.push(...queued.writes)
    state.queued++
    return { sealed: { key: queued.key, idHex: message.idHex, epoch: epoch.record.epoch, created: message.created, expires: message.expires, frame }, seq, member: state.member }
  }

  /** The device's state, loaded from the store once; undefined when it is no member device (any more). */
  private async state (device: string): Promise<DeviceState | undefined> {
    let state = this.states.get(device)
    if (state === undefined) {
      const store = this.opts.store
      const record = await store.device(device)
      if (record === undefined) return undefined
      const epoch = await store.latestEpoch(device)
      state = {
        member: record.member,
        peerId: peerIdFromString(device) as Uint8Array<ArrayBuffer>,
        seq: await store.seq(device),
        queued: await store.queuedCount(device),
        x25519: record.x25519,
        epoch: epoch === undefined ? undefined : { record: epoch, keys: epochKeysFromRecord(epoch) }
      }
      this.states.set(device, state)
    }
    return state
  }

  /** The epoch to seal under now, starting a new one when the current is old, full or for another key. */
  private async currentEpoch (device: string, state: DeviceState, now: number, writes: Write[]): Promise<NonNullable<DeviceState['epoch']>> {
    const current = state.epoch
    const sealed = current === undefined ? 0 : state.seq - current.record.firstSeq + 1
    if (current !== undefined && now < current.record.expires && sealed < MAX_EPOCH_ENVELOPES && current.record.x25519 === state.x25519 && current.record.created >= this.opts.sealSince) {
      return current
    }
    // time-based numbers (spec 10.3): a site that lost its state never reuses a number the device holds
    const number = Math.max((current?.record.epoch ?? (await this.opts.store.latestEpoch(device))?.epoch ?? 0) + 1, now)
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
      signed: toHex(made.signed),
      firstSeq: state.seq + 1,
      ...epochKeysToRecord(made.keys)
    }
    state.epoch = { record, keys: made.keys }
    writes.push(...this.opts.store.putEpoch(device, record))
    return state.epoch
  }
}

/** An outbox entry as the site's sender takes it (its header read for the id and times). */
export function toQueued ({ key, frame }: OutboxEntry): SiteQueued {
  const header = pushedEnvelopeHeader(frame)
  return { key, idHex: toHex(header.id), epoch: header.epoch, created: header.created, expires: header.expires, frame }
}
