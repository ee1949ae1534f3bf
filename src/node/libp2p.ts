import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { createLibp2p, type Libp2p, type Libp2pOptions as CreateOptions } from 'libp2p'
import { platform } from '#node-platform'
import { tmtpDht, type TmtpDhtInit } from '../discovery/index.js'
import type { Ed25519Signer } from '../crypto/index.js'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { ComponentLogger, ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { KadDHT } from '@libp2p/kad-dht'

/** `dht` is present exactly when createTmtpLibp2p was given the `dht` option. */
export type TmtpLibp2p = Libp2p<TmtpServices>
// a type literal, not an interface: libp2p's ServiceMap constraint needs an index signature
type TmtpServices = { identify: Identify, ping: Ping, dht?: KadDHT }

export interface Libp2pOptions {
  signer: Ed25519Signer
  listen: string[]
  /** Addresses to tell peers instead of the listen addresses (a node behind NAT or a proxy). */
  announce?: string[]
  connections: {
    maxConnections: number
    inboundConnectionThreshold: number
    maxIncomingPendingConnections: number
    /** libp2p's connection monitor pings every connection this often and aborts one whose ping fails; absent: no monitor (src/node/defaults.ts says why a site runs none). */
    pingIntervalMs?: number
  }
  /** Refuse these peers at the connection level, before any stream is opened. */
  denyPeer?: (peer: PeerId) => boolean
  /** Never dial these addresses, whoever announced them (the node's address scope). */
  denyDial?: (ma: Multiaddr) => boolean
  /** Refuse an inbound connection from this remote address before its handshake (per-IP bounds). */
  denyInbound?: (remote: Multiaddr) => boolean
  /** Run the TMTP DHT (src/discovery/dht.ts) as the `dht` service. Without it the node has no DHT. */
  dht?: TmtpDhtInit
  /** @default the platform's (src/node/platform.ts): TCP and WebSockets on Node.js, WebSockets in a browser */
  transports?: NonNullable<CreateOptions['transports']>
  /** libp2p's own metrics (connections, streams, protocols, DHT), e.g. Prometheus for a site's /metrics. */
  metrics?: CreateOptions['metrics']
  /** libp2p's logger (per-component, prefixable). @default libp2p's default */
  logger?: ComponentLogger
}

/** A libp2p node on the platform's transports with Noise, Yamux, identify and ping, not yet started. */
export async function createTmtpLibp2p (opts: Libp2pOptions): Promise<TmtpLibp2p> {
  const raw = new Uint8Array(64)
  raw.set(opts.signer.seed)
  raw.set(opts.signer.publicKey, 32)
  return await createLibp2p<TmtpServices>({
    privateKey: privateKeyFromRaw(raw),
    start: false,
    logger: opts.logger,
    addresses: { listen: opts.listen, announce: opts.announce },
    transports: opts.transports ?? platform.transports(),
    connectionEncrypters: [noise({ crypto: platform.noiseCrypto })],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: opts.connections.maxConnections,
      inboundConnectionThreshold: opts.connections.inboundConnectionThreshold,
      maxIncomingPendingConnections: opts.connections.maxIncomingPendingConnections
    },
    connectionMonitor: opts.connections.pingIntervalMs === undefined ? { enabled: false } : { pingInterval: opts.connections.pingIntervalMs },
    metrics: opts.metrics,
    connectionGater: connectionGater(opts),
    services: opts.dht === undefined
      ? { identify: identify(), ping: ping() }
      : { identify: identify(), ping: ping(), dht: tmtpDht(opts.dht) }
  })
}

/** The connection gater: refused peers, addresses never dialled, inbound connections refused by their address. */
function connectionGater (opts: Libp2pOptions): ConnectionGater {
  const { denyPeer, denyDial, denyInbound } = opts
  const gater: ConnectionGater = {}
  if (denyPeer !== undefined) {
    gater.denyInboundEncryptedConnection = async (peer: PeerId) => denyPeer(peer)
    gater.denyOutboundConnection = async (peer: PeerId) => denyPeer(peer)
  }
  // always set: libp2p's default in a browser refuses private and loopback addresses, which a
  // member on one machine or a private network needs (the node's address scope decides)
  gater.denyDialMultiaddr = async (ma: Multiaddr) => denyDial?.(ma) ?? false
  if (denyInbound !== undefined) gater.denyInboundConnection = async (connection: MultiaddrConnection) => denyInbound(connection.remoteAddr)
  return gater
}
