import type { Connection, Libp2p } from '@libp2p/interface'

/** How long an older connection's streams get to close before it is aborted. */
const CLOSE_GRACE_MS = 5_000

/**
 * A site keeps one connection per peer: when a peer opens a new one, its older ones close.
 * A site runs no connection monitor (src/node/defaults.ts), so a connection whose device
 * vanished without a FIN stays open on the site's side until TCP gives up (minutes); libp2p
 * opens streams on a peer's oldest open connection, so without this the site would keep
 * delivering into the dead connection after the device came back on a new one.
 */
export function keepNewestConnection (libp2p: Pick<Libp2p, 'addEventListener' | 'getConnections'>, onOpen: (connection: Connection) => void): void {
  libp2p.addEventListener('connection:open', ({ detail: fresh }) => {
    for (const old of libp2p.getConnections(fresh.remotePeer)) {
      if (old === fresh || old.timeline.open > fresh.timeline.open) continue
      old.close({ signal: AbortSignal.timeout(CLOSE_GRACE_MS) }).catch(err => { old.abort(err) })
    }
    onOpen(fresh)
  })
}
