import { networkOf } from '../discovery/index.js'
import type { TmtpLibp2p } from './libp2p.js'
import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Bounds the inbound connections from one network (an IP address, an IPv6 /64) held at once:
 * PeerIds cost nothing to make, so a bound per peer does not stop one host from holding
 * thousands of connections open under fresh identities. The connection gater asks `full`
 * before a connection's handshake; libp2p's events keep the counts.
 */
export class NetworkBound {
  private readonly max: number
  private readonly counts = new Map<string, number>()

  constructor (max: number) {
    this.max = max
  }

  /** Follows the node's connections from now on. */
  watch (libp2p: TmtpLibp2p): void {
    libp2p.addEventListener('connection:open', event => { this.change(event.detail, 1) })
    libp2p.addEventListener('connection:close', event => { this.change(event.detail, -1) })
  }

  /** Whether a new inbound connection from `remote` would exceed the bound. */
  full (remote: Multiaddr): boolean {
    return (this.counts.get(networkOf(remote)) ?? 0) >= this.max
  }

  private change (connection: Connection, by: number): void {
    if (connection.direction !== 'inbound') return
    const network = networkOf(connection.remoteAddr)
    const count = (this.counts.get(network) ?? 0) + by
    if (count > 0) this.counts.set(network, count)
    else this.counts.delete(network)
  }
}
