import { KEEP_ALIVE, type Libp2p, type PeerId, type Startable } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { NodeError } from '../util/index.js'

/**
 * Keeps this node connected to its configured DHT bootstrap peers (spec: "The DHT": bootstrap
 * peers are configuration). A new DHT node has an empty routing table and every query waits
 * until a DHT server is in it; a connection to a bootstrap peer puts it there (kad-dht adds
 * every connected peer whose identify lists '/tmtp/kad/1.0.0'), and the self-query then finds
 * the rest of the network.
 *
 * The peers are tagged keep-alive, so libp2p redials them when a connection drops; because
 * libp2p gives up after a few failed redials, this also redials every `intervalMs` any
 * bootstrap peer it is not connected to.
 */

const log = logger('tmtp:discovery:bootstrap')

/** The `/p2p/<PeerId>` multiaddr protocol. */
const P2P_CODE = 421

export interface BootstrapPeer {
  id: PeerId
  addrs: Multiaddr[]
}

export interface BootstrapInit {
  /** Bootstrap peers: multiaddrs ending with /p2p/<PeerId> (strings or Multiaddrs). */
  peers: Array<string | Multiaddr>
  /** @default 60 s */
  intervalMs?: number
}

/** Groups multiaddrs that end with /p2p/<PeerId> by peer; throws INVALID_ARGUMENT for one without. */
export function parseBootstrapPeers (peers: Array<string | Multiaddr>): BootstrapPeer[] {
  const byPeer = new Map<string, BootstrapPeer>()
  for (const text of peers) {
    const addr = typeof text === 'string' ? multiaddr(text) : text
    const last = addr.getComponents().at(-1)
    if (last?.code !== P2P_CODE || last.value === undefined) throw new NodeError('INVALID_ARGUMENT', `bootstrap address ${addr.toString()} does not end with /p2p/<PeerId>`)
    const id = peerIdFromString(last.value)
    const entry = byPeer.get(id.toString()) ?? { id, addrs: [] }
    entry.addrs.push(addr.decapsulateCode(P2P_CODE))
    byPeer.set(id.toString(), entry)
  }
  return [...byPeer.values()]
}

export class BootstrapDialer implements Startable {
  private readonly libp2p: Libp2p
  private readonly peers: BootstrapPeer[]
  private readonly intervalMs: number
  private timer: ReturnType<typeof setInterval> | undefined
  private controller = new AbortController()
  private started = false

  constructor (libp2p: Libp2p, init: BootstrapInit) {
    this.libp2p = libp2p
    this.peers = parseBootstrapPeers(init.peers).filter(p => !p.id.equals(libp2p.peerId))
    this.intervalMs = init.intervalMs ?? 60_000
  }

  isStarted (): boolean {
    return this.started
  }

  /** Stores the peers (tagged keep-alive) and dials them; resolves when every dial has ended. */
  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    this.controller = new AbortController()
    for (const peer of this.peers) {
      await this.libp2p.peerStore.merge(peer.id, { multiaddrs: peer.addrs, tags: { [KEEP_ALIVE]: { value: 1 } } })
    }
    this.timer = setInterval(() => { this.dialAll().catch(() => {}) }, this.intervalMs)
    await this.dialAll()
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    clearInterval(this.timer)
    this.controller.abort()
  }

  /** Dials every bootstrap peer not connected now; returns how many are connected afterwards. */
  async dialAll (): Promise<number> {
    const results = await Promise.all(this.peers.map(async peer => {
      if (this.libp2p.getConnections(peer.id).length > 0) return true
      try {
        await this.libp2p.dial(peer.id, { signal: this.controller.signal })
        return true
      } catch (err) {
        if (this.started) log('cannot reach bootstrap peer %p: %e', peer.id, err)
        return false
      }
    }))
    return results.filter(Boolean).length
  }
}
