import type { EpochKeys } from '../crypto/index.js'
import type { EpochRecord } from '../store/index.js'

/** What the outbox keeps of a device while it seals for it. */
export interface DeviceState {
  member: string
  /** The device's PeerId as bytes, as each envelope header names it (parsed once). */
  peerId: Uint8Array<ArrayBuffer>
  seq: number
  /** Envelopes in the device's outbox (counted once when the state is loaded, then kept). */
  queued: number
  x25519: string
  epoch?: { record: EpochRecord, keys: EpochKeys }
}

interface Cached {
  state: DeviceState
  /** Writes in flight that carry a sequence number or epoch of this state. */
  pins: number
  /** Forgotten while pinned: it goes when its last write landed. */
  forgotten?: boolean
}

/**
 * The device states the outbox seals with, at most `capacity` of them, the least recently used
 * going first: a broadcast to 100,000 devices passes through it instead of filling it. A state
 * is pinned while a write that raised its sequence number is in flight, and never evicted then:
 * a state read back from the store before that write landed would hand out the same sequence
 * number again (a reused nonce, spec 11.4). While every state is pinned the cache holds more.
 */
export class DeviceStates {
  private readonly capacity: number
  private readonly cache = new Map<string, Cached>()

  constructor (capacity: number) {
    this.capacity = capacity
  }

  /** The cached state, made most recently used. */
  get (device: string): DeviceState | undefined {
    const cached = this.cache.get(device)
    if (cached === undefined) return undefined
    this.cache.delete(device)
    this.cache.set(device, cached)
    return cached.state
  }

  /** The cached state, its place unchanged. */
  peek (device: string): DeviceState | undefined {
    return this.cache.get(device)?.state
  }

  /** Caches a state just loaded, evicting the least recently used unpinned ones past the capacity. */
  set (device: string, state: DeviceState): void {
    this.cache.set(device, { state, pins: 0 })
    if (this.cache.size <= this.capacity) return
    for (const [d, cached] of this.cache) {
      if (this.cache.size <= this.capacity) break
      if (cached.pins === 0 && d !== device) this.cache.delete(d)
    }
  }

  /** A write that carries these devices' new sequence numbers is in flight. */
  pin (devices: Iterable<string>): void {
    for (const d of devices) {
      const cached = this.cache.get(d)
      if (cached !== undefined) cached.pins++
    }
  }

  /** That write landed (or failed: then the states are forgotten, the store is the truth). */
  unpin (devices: Iterable<string>, failed: boolean): void {
    for (const d of devices) {
      const cached = this.cache.get(d)
      if (cached === undefined) continue
      cached.pins--
      if (failed || (cached.pins === 0 && cached.forgotten === true)) this.cache.delete(d)
    }
  }

  /**
   * Forgets a device's state (it left, rejoined, was removed): the store is read again at its
   * next use, but only once the writes in flight with its sequence numbers landed.
   */
  delete (device: string): void {
    const cached = this.cache.get(device)
    if (cached === undefined) return
    if (cached.pins > 0) cached.forgotten = true
    else this.cache.delete(device)
  }

  get size (): number {
    return this.cache.size
  }
}
