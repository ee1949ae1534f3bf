import { defaultLogger } from '@libp2p/logger'
import { peerIdFromString as libp2pPeerIdFromString } from '@libp2p/peer-id'
import { peerIdToString, type Ed25519Signer } from '../crypto/index.js'
import { Discovery, inScope, type AddressScope, type DhtLimits, type LookupEvent } from '../discovery/index.js'
import { platform } from '#node-platform'
import { createTmtpLibp2p, type Libp2pOptions, type TmtpLibp2p } from './libp2p.js'
import { NetworkBound } from './network-bound.js'
import { PeerGuard } from './peer-guard.js'
import { watchStorage, type StorageFailure } from './storage-health.js'
import type { NodeLimits } from './limits.js'
import type { Database } from '../store/index.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'

export interface NodeShellInit {
  /** The node's data folder: identity key and LevelDB. */
  dataDir: string
  fsync: boolean
  /** LevelDB's memtable; absent: LevelDB's default. */
  memtableBytes?: number
  listen: string[]
  connections: Libp2pOptions['connections']
  /** The TMTP DHT, as `createTmtpLibp2p` takes it but for its limits (from `limits`); absent: the node runs no DHT. */
  dht?: Omit<NonNullable<Libp2pOptions['dht']>, 'limits'>
  limits: Pick<NodeLimits, 'refusalsPerMinute' | 'banMs' | 'dhtMaxRecords' | 'dhtMaxBytes' | 'dhtPutsPerMinute' | 'dhtPutsPerMinutePerIp'>
  /** Which addresses of other peers the node dials; the gater refuses the rest. */
  addressScope: AddressScope
  /** Inbound connections one network (IP address, IPv6 /64) may hold at once; absent: no bound (a member device has few connections anyway). */
  maxConnectionsPerIp?: number
  metrics?: Libp2pOptions['metrics']
  /** Where the node and its libp2p log; tell the nodes of one process apart with a prefix. @default libp2p's default logger */
  logger?: ComponentLogger
  /** The node's log component, e.g. 'tmtp:site'. */
  component: string
}

function dhtLimits (limits: NodeShellInit['limits']): DhtLimits {
  return { maxRecords: limits.dhtMaxRecords, maxBytes: limits.dhtMaxBytes, putsPerMinute: limits.dhtPutsPerMinute, putsPerMinutePerIp: limits.dhtPutsPerMinutePerIp }
}

/**
 * What every TMTP node is built on (site, member and bootstrap alike): its identity, its
 * LevelDB, a libp2p node whose connection gater refuses banned peers, the
 * guard that bans peers causing too many refused streams, storage-failure reporting, and
 * the DHT's discovery once started. Role logic lives in the node classes on top.
 */
export class NodeShell {
  readonly signer: Ed25519Signer
  readonly peerId: string
  readonly db: Database
  readonly libp2p: TmtpLibp2p
  readonly guard: PeerGuard
  readonly log: Logger
  discovery?: Discovery

  private constructor (signer: Ed25519Signer, db: Database, libp2p: TmtpLibp2p, guard: PeerGuard, log: Logger) {
    this.signer = signer
    this.peerId = peerIdToString(signer.peerId)
    this.db = db
    this.libp2p = libp2p
    this.guard = guard
    this.log = log
  }

  /** Loads (or creates) the identity, opens the database and builds libp2p, not yet started. */
  static async open (init: NodeShellInit): Promise<NodeShell> {
    const signer = await platform.loadIdentity(init.dataDir)
    const db = await platform.openDatabase(init.dataDir, { fsync: init.fsync, memtableBytes: init.memtableBytes })
    try {
      const logger = init.logger ?? defaultLogger()
      const log = logger.forComponent(init.component)
      const guard = new PeerGuard({ ...init.limits, log })
      const networks = init.maxConnectionsPerIp === undefined ? undefined : new NetworkBound(init.maxConnectionsPerIp)
      const libp2p = await createTmtpLibp2p({
        signer,
        listen: init.listen,
        connections: init.connections,
        denyPeer: peer => guard.isBanned(peer.toString()),
        denyDial: init.addressScope === 'all' ? undefined : ma => !inScope(ma, init.addressScope),
        denyInbound: networks === undefined ? undefined : remote => networks.full(remote),
        // a peer whose DHT requests keep being refused is banned like one whose TMTP streams are
        dht: init.dht === undefined ? undefined : { ...init.dht, limits: dhtLimits(init.limits), onRefused: (peer, code) => { guard.refused(peer, code) } },
        metrics: init.metrics,
        logger
      })
      networks?.watch(libp2p)
      // a banned peer is refused by the gater from now on, and its open connections close
      guard.onBan(peer => { libp2p.hangUp(libp2pPeerIdFromString(peer)).catch(() => {}) })
      return new NodeShell(signer, db, libp2p, guard, log)
    } catch (err) {
      await db.close()
      throw err
    }
  }

  /** Reports the database's first write failure once (the node's `storage` event); returns the getter of it. */
  watchStorage (report: (failure: StorageFailure) => void): () => StorageFailure | undefined {
    return watchStorage(this.db, this.log, report)
  }

  /** Starts libp2p, then the DHT's discovery (bootstrap dials, publishing this node's address record). */
  async start (discovery: { bootstrap: string[], publish: boolean, onLookup?: (event: LookupEvent) => void }): Promise<void> {
    await this.libp2p.start()
    if (this.libp2p.services.dht === undefined) return
    this.discovery = new Discovery(this.libp2p, { signer: this.signer, ...discovery })
    await this.discovery.start()
  }

  /** Listen addresses as text. */
  multiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map(ma => ma.toString())
  }

  /**
   * Stops discovery and libp2p (closing every connection, which ends running sessions),
   * waits for `settled` (those sessions' last writes), then closes the database.
   */
  async stop (settled?: Promise<unknown>): Promise<void> {
    await this.discovery?.stop()
    await this.libp2p.stop()
    await settled
    await this.db.close()
  }

  /** Closes what `open` opened, for a node that failed to start. */
  async abort (): Promise<void> {
    try {
      await this.libp2p.stop()
    } finally {
      await this.db.close()
    }
  }
}
