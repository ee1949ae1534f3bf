import '../polyfill.js'
import { DEFAULTS } from './defaults.js'
import { resolveLimits, type NodeLimits } from './limits.js'
import { NodeShell } from './node-shell.js'
import type { TmtpLibp2p } from './libp2p.js'
import type { AddressScope } from '../discovery/index.js'
import type { ComponentLogger } from '@libp2p/interface'

export interface BootstrapNodeOptions {
  /** The node's data folder: its identity key (a stable PeerId, so its address can be configured) and its database. */
  dataDir: string
  /** @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** Other bootstrap peers to stay connected to. */
  bootstrap?: string[]
  /** @default libp2p's default logger */
  logger?: ComponentLogger
  /** Which addresses of other peers this node stores and dials (src/discovery/address-scope.ts). @default 'all'; 'public' for a site on the Internet */
  addressScope?: AddressScope
  /** config.json's limits; a bootstrap node uses the DHT's (dhtMaxRecords, …), the ban's (refusalsPerMinute, banMs) and maxConnectionsPerIp. @default DEFAULTS */
  limits?: Partial<NodeLimits>
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
  const limits = resolveLimits(options.limits ?? {})
  const shell = await NodeShell.open({
    dataDir: options.dataDir,
    fsync: DEFAULTS.fsync,
    listen: options.listen ?? [...DEFAULTS.listen],
    connections: DEFAULTS.site,
    dht: { role: 'bootstrap' },
    limits,
    logger: options.logger,
    addressScope: options.addressScope ?? DEFAULTS.addressScope,
    maxConnectionsPerIp: limits.maxConnectionsPerIp,
    component: 'tmtp:bootstrap'
  })
  try {
    await shell.start({ bootstrap: options.bootstrap ?? [], publish: false })
  } catch (err) {
    await shell.abort()
    throw err
  }
  shell.log('bootstrap node %s started', shell.peerId)
  return {
    peerId: shell.peerId,
    libp2p: shell.libp2p,
    multiaddrs: () => shell.multiaddrs(),
    stop: async () => { await shell.stop() }
  }
}
