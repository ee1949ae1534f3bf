import type { Libp2p } from '@libp2p/interface'
import { unref } from '../util/index.js'

export interface ConnectionBoundOptions {
  max: number
  intervalMs: number
  /** Peers whose connections are kept whatever the count (joined sites). */
  keep: (peer: string) => boolean
}

/**
 * Holds a light node to its connection bound. libp2p prunes only when a connection opens,
 * and skips connections that have a stream open at that moment, so after a burst of DHT
 * queries a device can stay above its bound; this trims again every interval, newest
 * connections first, never those to kept peers or with streams open.
 */
export class ConnectionBound {
  private readonly libp2p: Libp2p
  private readonly opts: ConnectionBoundOptions
  private timer?: NodeJS.Timeout

  constructor (libp2p: Libp2p, opts: ConnectionBoundOptions) {
    this.libp2p = libp2p
    this.opts = opts
  }

  start (): void {
    this.timer = setInterval(() => { this.trim().catch(() => {}) }, this.opts.intervalMs)
    unref(this.timer)
  }

  stop (): void {
    clearInterval(this.timer)
  }

  async trim (): Promise<number> {
    const connections = this.libp2p.getConnections()
    let excess = connections.length - this.opts.max
    if (excess <= 0) return 0
    const candidates = connections
      .filter(c => !this.opts.keep(c.remotePeer.toString()) && c.streams.length === 0)
      .sort((a, b) => b.timeline.open - a.timeline.open)
    let closed = 0
    for (const connection of candidates) {
      if (excess-- <= 0) break
      await connection.close().catch(err => { connection.abort(err) })
      closed++
    }
    return closed
  }
}
