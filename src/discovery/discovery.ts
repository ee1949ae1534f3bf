import { logger } from '@libp2p/logger'
import { BootstrapDialer } from './bootstrap.js'
import { findAddresses } from './lookup.js'
import { AddressPublisher, type AddressPublisherInit } from './publisher.js'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'
import type { Ed25519Signer } from '../crypto/index.js'
import { NodeError } from '../util/index.js'

const log = logger('tmtp:discovery')

export interface DiscoveryInit {
  signer: Ed25519Signer
  /** Bootstrap peers: multiaddrs ending with /p2p/<PeerId>. */
  bootstrap: string[]
  /** Publish this node's address record (sites and member devices do; bootstrap nodes need not). */
  publish: boolean
  publisher?: Omit<AddressPublisherInit, 'signer'>
  lookupTimeoutMs?: number
  /** Told of every lookup and its outcome (for events and metrics). */
  onLookup?: (event: LookupEvent) => void
}

export interface LookupEvent {
  peer: string
  found: boolean
  addrs: string[]
  error?: string
}

/**
 * What a node does with the TMTP DHT (spec: "The DHT"): stays connected to its bootstrap
 * peers, keeps its own signed address record published, and looks a peer's current
 * addresses up when the ones it knows fail.
 */
export class Discovery {
  private readonly libp2p: Libp2p<{ dht?: KadDHT }>
  private readonly dht: KadDHT
  private readonly bootstrap: BootstrapDialer
  private readonly publisher?: AddressPublisher
  private readonly lookupTimeoutMs?: number
  private readonly onLookup?: (event: LookupEvent) => void

  constructor (libp2p: Libp2p<{ dht?: KadDHT }>, init: DiscoveryInit) {
    const dht = libp2p.services.dht
    if (dht === undefined) throw new NodeError('INVALID_ARGUMENT', 'this libp2p node runs no DHT')
    this.libp2p = libp2p
    this.dht = dht
    this.bootstrap = new BootstrapDialer(libp2p, { peers: init.bootstrap })
    this.publisher = init.publish ? new AddressPublisher(libp2p, dht, { ...init.publisher, signer: init.signer }) : undefined
    this.lookupTimeoutMs = init.lookupTimeoutMs
    this.onLookup = init.onLookup
  }

  /** Starts after libp2p has started: dials the bootstrap peers, then publishes. */
  async start (): Promise<void> {
    // bootstrap dials run in the background: an unreachable bootstrap peer must not delay start
    this.bootstrap.start().catch(err => { log.error('bootstrap failed: %e', err) })
    this.publisher?.start()
  }

  async stop (): Promise<void> {
    await this.publisher?.stop()
    await this.bootstrap.stop()
  }

  /**
   * Finds the peer's current addresses in the DHT and adds them to the peer store; true when
   * some were found, so that a dial may be tried again.
   */
  async locate (peer: PeerId, signal?: AbortSignal): Promise<boolean> {
    // with no DHT server known a lookup could only time out, holding up the retry loop
    if ((this.dht as Partial<SingleKadDHT>).routingTable?.size === 0) return false
    const result = await findAddresses(this.dht, peer, { peerStore: this.libp2p.peerStore, timeoutMs: this.lookupTimeoutMs, signal })
    if (!result.ok) {
      log('no address record of %p: %s', peer, result.error)
      this.onLookup?.({ peer: peer.toString(), found: false, addrs: [], error: result.error })
      return false
    }
    const addrs = result.addrs.map(a => a.toString())
    this.onLookup?.({ peer: peer.toString(), found: addrs.length > 0, addrs })
    return addrs.length > 0
  }
}
