import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { equalBytes, type Ed25519Signer } from '../crypto/index.js'
import { addressRecordKey, signAddressRecord } from './address-record.js'
import { DEFAULT_PUBLISH_TIMEOUT_MS, DEFAULT_RECORD_LIFETIME_MS, DEFAULT_REPUBLISH_INTERVAL_MS, MAX_RECORD_ADDRS, MAX_RECORD_ADDR_BYTES, MAX_RECORD_LIFETIME_MS } from './constants.js'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2pEvents, Startable, TypedEventTarget } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { NodeError } from '../util/index.js'

/**
 * Keeps this node's signed address record in the TMTP DHT (spec 16.6, "Publishing, refresh and expiry"):
 * publishes it on start, whenever libp2p reports a change of this node's addresses
 * ('self:peer:update'), and every `republishIntervalMs`; after a failed publication it tries
 * again after `retryIntervalMs`. Publications never overlap: a change during one is published
 * right after it.
 */

/** The `/p2p/<PeerId>` and `/p2p-circuit` multiaddr protocols. */
const P2P_CODE = 421
const P2P_CIRCUIT_CODE = 290

/** What the publisher needs of a libp2p node. */
export interface PublisherLibp2p extends TypedEventTarget<Libp2pEvents> {
  getMultiaddrs: () => Multiaddr[]
}

export interface AddressPublisherInit {
  /** This node's identity: the record is signed with it and published under its PeerId. */
  signer: Ed25519Signer
  /** @default 30 minutes */
  republishIntervalMs?: number
  /** Lifetime of each record; must exceed republishIntervalMs and be at most 48 h. @default 2 hours */
  recordLifetimeMs?: number
  /** Delay before the next attempt after a publication that stored the record nowhere. @default 60 s */
  retryIntervalMs?: number
  /** A publication (the query for the closest servers and the puts) gives up after this. @default 30 s */
  publishTimeoutMs?: number
  /** The clock, in ms since the epoch. @default Date.now */
  now?: () => number
}

export interface PublishResult {
  /** The seq of the record, 0 if nothing was signed. */
  seq: number
  /** The addresses in the record. */
  addrs: Multiaddr[]
  /** The signed record (SignedPayload bytes), if one was signed. */
  record?: Uint8Array
  /** How many DHT servers confirmed that they stored it. */
  stored: number
  /** How many servers refused it or could not be reached. */
  failed: number
  /** Set when the publication did not store the record anywhere. */
  error?: 'NO_ADDRESSES' | 'NO_PEERS' | 'TIMEOUT' | 'ABORTED' | 'FAILED'
  cause?: unknown
}

export interface AddressPublisherEvents {
  /** After every publication, successful or not. */
  published: CustomEvent<PublishResult>
}

const DEFAULT_RETRY_INTERVAL_MS = 60_000

/** The addresses this node publishes: its own, without /p2p/<self>, no relay addresses, none over 512 bytes, at most 16. */
export function publishableAddrs (addrs: Multiaddr[]): Multiaddr[] {
  const out = new Map<string, Multiaddr>()
  for (const addr of addrs) {
    const codes = addr.getComponents().map(c => c.code)
    if (codes.includes(P2P_CIRCUIT_CODE)) continue
    const own = codes.at(-1) === P2P_CODE ? addr.decapsulateCode(P2P_CODE) : addr
    if (own.getComponents().length === 0 || own.bytes.byteLength > MAX_RECORD_ADDR_BYTES) continue
    out.set(own.toString(), own)
  }
  return [...out.values()].slice(0, MAX_RECORD_ADDRS)
}

export class AddressPublisher extends TypedEventEmitter<AddressPublisherEvents> implements Startable {
  private readonly log = logger('tmtp:discovery:publisher')
  private readonly libp2p: PublisherLibp2p
  private readonly dht: KadDHT
  private readonly signer: Ed25519Signer
  private readonly key: Uint8Array
  private readonly republishIntervalMs: number
  private readonly recordLifetimeMs: number
  private readonly retryIntervalMs: number
  private readonly publishTimeoutMs: number
  private readonly now: () => number
  private started = false
  private controller = new AbortController()
  private timer: ReturnType<typeof setTimeout> | undefined
  private running: Promise<PublishResult> | undefined
  private again = false
  private lastSeq = 0
  private lastPublished: string | undefined
  private readonly onSelfUpdate = (): void => { this.onAddressChange() }

  /** The result of the most recent publication, if any. */
  lastResult: PublishResult | undefined

  constructor (libp2p: PublisherLibp2p, dht: KadDHT, init: AddressPublisherInit) {
    super()
    this.libp2p = libp2p
    this.dht = dht
    this.signer = init.signer
    this.key = addressRecordKey(init.signer.peerId)
    this.republishIntervalMs = init.republishIntervalMs ?? DEFAULT_REPUBLISH_INTERVAL_MS
    this.recordLifetimeMs = init.recordLifetimeMs ?? DEFAULT_RECORD_LIFETIME_MS
    this.retryIntervalMs = init.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS
    this.publishTimeoutMs = init.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS
    this.now = init.now ?? Date.now
    if (!(this.recordLifetimeMs > 0 && this.recordLifetimeMs <= MAX_RECORD_LIFETIME_MS)) {
      throw new NodeError('INVALID_ARGUMENT', `recordLifetimeMs must be between 1 ms and ${MAX_RECORD_LIFETIME_MS} ms`)
    }
    if (!(this.republishIntervalMs > 0 && this.republishIntervalMs < this.recordLifetimeMs)) {
      throw new NodeError('INVALID_ARGUMENT', 'republishIntervalMs must be positive and shorter than recordLifetimeMs')
    }
    if (!(this.retryIntervalMs > 0) || !(this.publishTimeoutMs > 0)) throw new NodeError('INVALID_ARGUMENT', 'retryIntervalMs and publishTimeoutMs must be positive')
  }

  isStarted (): boolean {
    return this.started
  }

  /** Starts publishing in the background; the first publication begins at once. */
  start (): void {
    if (this.started) return
    this.started = true
    this.controller = new AbortController()
    this.libp2p.addEventListener('self:peer:update', this.onSelfUpdate)
    this.schedule(0)
  }

  /** Stops the timer and the listener and aborts a publication in progress. */
  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.libp2p.removeEventListener('self:peer:update', this.onSelfUpdate)
    clearTimeout(this.timer)
    this.timer = undefined
    this.again = false
    this.controller.abort()
    await this.running?.catch(() => {})
  }

  /**
   * Publishes the current addresses now (or, if a publication is running, right after it)
   * and resolves with the result of that publication. Does not throw.
   */
  async publish (): Promise<PublishResult> {
    while (this.running !== undefined) {
      this.again = false
      await this.running.catch(() => {})
    }
    const run = this.publishOnce()
    this.running = run
    try {
      return await run
    } finally {
      if (this.running === run) this.running = undefined
    }
  }

  private onAddressChange (): void {
    if (!this.started) return
    const current = publishableAddrs(this.libp2p.getMultiaddrs()).map(a => a.toString()).join(' ')
    if (current === this.lastPublished) return
    if (this.running !== undefined) {
      this.again = true
      return
    }
    this.schedule(0)
  }

  private schedule (delayMs: number): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.publish().then(result => {
        if (!this.started) return
        if (this.again) {
          this.again = false
          this.schedule(0)
        } else if (this.timer === undefined) {
          this.schedule(result.error === undefined ? this.republishIntervalMs : this.retryIntervalMs)
        }
      }, err => { this.log.error('publication failed: %e', err) })
    }, delayMs)
  }

  private async publishOnce (): Promise<PublishResult> {
    const addrs = publishableAddrs(this.libp2p.getMultiaddrs())
    const result: PublishResult = { seq: 0, addrs, stored: 0, failed: 0 }
    if (addrs.length === 0) {
      result.error = 'NO_ADDRESSES'
      return this.finish(result)
    }
    const now = this.now()
    result.seq = Math.max(now, this.lastSeq + 1)
    this.lastSeq = result.seq
    let record: Uint8Array
    try {
      record = signAddressRecord(this.signer, addrs, result.seq, now + this.recordLifetimeMs)
    } catch (err) {
      // an address the record cannot carry (longer than 512 bytes, not canonical)
      return this.finish({ ...result, error: 'FAILED', cause: err })
    }
    result.record = record
    this.lastPublished = addrs.map(a => a.toString()).join(' ')
    const timeout = AbortSignal.timeout(this.publishTimeoutMs)
    const signal = AbortSignal.any([this.controller.signal, timeout])
    try {
      for await (const event of this.dht.put(this.key, record, { signal })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') {
          // a server echoes the record it stored; anything else counts as a failure
          if (event.record !== undefined && equalBytes(event.record.value, record)) result.stored++
          else result.failed++
        } else if (event.name === 'QUERY_ERROR') {
          result.failed++
        }
      }
      if (result.stored === 0) result.error = result.failed === 0 ? 'NO_PEERS' : 'FAILED'
    } catch (err) {
      result.cause = err
      if (result.stored === 0) result.error = this.controller.signal.aborted ? 'ABORTED' : timeout.aborted ? 'TIMEOUT' : 'FAILED'
    }
    if (result.error !== undefined) this.lastPublished = undefined
    return this.finish(result)
  }

  private finish (result: PublishResult): PublishResult {
    this.lastResult = result
    if (result.error === undefined) {
      this.log('published seq %d with %d addresses to %d servers (%d failed)', result.seq, result.addrs.length, result.stored, result.failed)
    } else {
      this.log('publication of seq %d failed: %s %e', result.seq, result.error, result.cause)
    }
    this.safeDispatchEvent('published', { detail: result })
    return result
  }
}
