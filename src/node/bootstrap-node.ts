import '../polyfill.js'
import { logger } from '@libp2p/logger'
import { peerIdToString } from '../crypto/ed25519.js'
import { Discovery } from '../discovery/discovery.js'
import { DEFAULTS } from './defaults.js'
import { loadIdentity } from './identity.js'
import { createTmtpLibp2p, type TmtpLibp2p } from './libp2p.js'

export interface BootstrapNodeOptions {
  /** The node's data folder: its identity key (a stable PeerId, so its address can be configured). */
  dataDir: string
  /** @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** Other bootstrap peers to stay connected to. */
  bootstrap?: string[]
}

/** A DHT server that only helps TMTP nodes find each other (spec: "The DHT"). */
export interface BootstrapNode {
  readonly peerId: string
  readonly libp2p: TmtpLibp2p
  /** Listen addresses with /p2p/<PeerId>: what other nodes put in their bootstrap list. */
  multiaddrs: () => string[]
  stop: () => Promise<void>
}

export async function createBootstrapNode (options: BootstrapNodeOptions): Promise<BootstrapNode> {
  const signer = await loadIdentity(options.dataDir)
  const libp2p = await createTmtpLibp2p({
    signer,
    listen: options.listen ?? [...DEFAULTS.listen],
    connections: DEFAULTS.site,
    dht: { role: 'bootstrap' }
  })
  await libp2p.start()
  const discovery = new Discovery(libp2p, { signer, bootstrap: options.bootstrap ?? [], publish: false })
  await discovery.start()
  logger('tmtp:bootstrap')('bootstrap node %s started', peerIdToString(signer.peerId))
  return {
    peerId: peerIdToString(signer.peerId),
    libp2p,
    multiaddrs: () => libp2p.getMultiaddrs().map(ma => ma.toString()),
    stop: async () => {
      await discovery.stop()
      await libp2p.stop()
    }
  }
}
