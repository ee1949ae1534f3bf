import '../polyfill.js'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { peerIdFromString as libp2pPeerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { Registry } from 'prom-client'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { peerIdToString } from '../crypto/ed25519.js'
import { NodeError } from '../util/node-error.js'
import { FramedStream } from '../delivery/framed-stream.js'
import { receiveEnvelopes } from '../delivery/receiver.js'
import { DeliveryScheduler } from '../delivery/scheduler.js'
import { sendEnvelopes, type SenderResult } from '../delivery/sender.js'
import { SiteOutbox } from '../delivery/site-outbox.js'
import type { SendRequest, SendResult, SiteEvent } from '../delivery/send-request.js'
import { DELIVERY_STATES, type DeliveryState } from '../store/states.js'
import { siteRepliesSink } from '../delivery/site-replies.js'
import { MAX_FRAME_SIZE, PROTOCOL_DELIVER, PROTOCOL_JOIN, PROTOCOL_LEAVE, PROTOCOL_POST, RECEIPT_TIMEOUT_MS } from '../protocol/constants.js'
import { ErrorCode, codeToWire } from '../protocol/errors.js'
import { JoinResponse, Result } from '../protocol/pb/tmtp.js'
import { Database, put } from '../store/database.js'
import { key, SiteStore, type Reply, type ReplyView } from '../store/site-store.js'
import { DEFAULTS } from './defaults.js'
import { DATABASE_DIR, loadIdentity } from './identity.js'
import { createTmtpLibp2p, type TmtpLibp2p } from './libp2p.js'
import { dialWithLookup, remoteBytes, serveControl } from './control.js'
import { Discovery, type LookupEvent } from '../discovery/discovery.js'
import { SiteMembership, type InviteRequest, type IssuedInvite, type MemberView } from './site-membership.js'
import { watchStorage, type StorageFailure } from './storage-health.js'
import { resolveLimits, type NodeLimits } from './limits.js'
import { guardLibp2p, type PeerGuard } from './peer-guard.js'
import type { Ed25519Signer } from '../crypto/ed25519.js'
import type { Connection, PeerId } from '@libp2p/interface'

/** Limits (src/node/limits.ts: window, joinsPerMinute, maxInboundStreams, maxQueuePerDevice, refusalsPerMinute, banMs, streamIdleMs) are options too. */
export interface SiteNodeOptions extends Partial<NodeLimits> {
  /** The node's data folder: identity key and LevelDB. */
  dataDir: string
  /** Display name of the site, shown to members. */
  name?: string
  /** libp2p listen multiaddrs. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** fsync every batch (power-loss safe). @default false */
  fsync?: boolean
  retryBaseMs?: number
  retryCapMs?: number
  defaultTtlMs?: number
  maxTtlMs?: number
  inviteTtlMs?: number
  epochAgeMs?: number
  /** DHT bootstrap peers: multiaddrs ending with /p2p/<PeerId>. @default [] */
  bootstrap?: string[]
  /** Run the TMTP DHT (as a server) to find member devices that moved, and be found. @default true */
  dht?: boolean
  /** Serve DHT queries (a site behind NAT may not). @default true */
  dhtServer?: boolean
  /** The clock, for tests of expiry. @default Date.now */
  now?: () => number
}

export interface MessageStatus {
  id: string
  created: number
  expires: number
  subject: string
  urgency: string
  topic?: string
  devices: Array<{ device: string, member: string, seq: number, state: DeliveryState, at: number, code?: string, detail?: string, proof?: string }>
}

/** The end of one delivery session to a device: ok when its queue drained, else the error code. */
export interface SessionEvent {
  device: string
  ok: boolean
  code?: string
}

export interface SiteStats {
  queued: number
  activeDeliveries: number
  states: Record<DeliveryState, number>
}

export interface SiteNodeEvents {
  delivery: CustomEvent<SiteEvent>
  reply: CustomEvent<Reply>
  session: CustomEvent<SessionEvent>
  /** A device's addresses were looked up in the DHT. */
  lookup: CustomEvent<LookupEvent>
  /** A write failed: the node refuses every write (sends answer STORAGE_FAILURE) until restarted. */
  storage: CustomEvent<StorageFailure>
}

/** A running TMTP site node (spec: "Roles"). */
export interface SiteNode extends TypedEventEmitter<SiteNodeEvents> {
  readonly peerId: string
  readonly libp2p: TmtpLibp2p
  /** libp2p's own metrics (connections, streams, DHT), for the API's /metrics. */
  readonly libp2pMetrics: Registry
  multiaddrs: () => string[]
  createInvite: (req?: InviteRequest) => Promise<IssuedInvite>
  send: (req: SendRequest) => Promise<SendResult>
  message: (id: string) => Promise<MessageStatus>
  members: () => Promise<MemberView[]>
  member: (idOrRef: string) => Promise<MemberView>
  removeMember: (idOrRef: string) => Promise<MemberView>
  /** Replies in the order received; `after` is the `cursor` of the last reply of the previous page. */
  replies: (opts?: { after?: string, limit?: number }) => Promise<ReplyView[]>
  /** Outbox entries, active delivery sessions, and per-device statuses by state (a scan: not for hot paths). */
  stats: () => Promise<SiteStats>
  /** The first write that failed, if one did (see the `storage` event). */
  storageFailure: () => StorageFailure | undefined
  stop: () => Promise<void>
}

class TmtpSiteNode extends TypedEventEmitter<SiteNodeEvents> implements SiteNode {
  readonly peerId: string
  readonly libp2p: TmtpLibp2p
  readonly libp2pMetrics: Registry
  private readonly db: Database
  private readonly store: SiteStore
  private readonly outbox: SiteOutbox
  private readonly membership: SiteMembership
  private readonly scheduler: DeliveryScheduler
  private readonly signer: Ed25519Signer
  private readonly discovery?: Discovery
  private readonly log = logger('tmtp:site')
  private readonly limits: NodeLimits
  /** Peers banned for too many refused streams (checked by the connection gater). */
  readonly guard: PeerGuard
  readonly storageFailure: () => StorageFailure | undefined
  private sweepTimer?: NodeJS.Timeout

  constructor (signer: Ed25519Signer, libp2p: TmtpLibp2p, libp2pMetrics: Registry, db: Database, options: SiteNodeOptions) {
    super()
    this.libp2pMetrics = libp2pMetrics
    const now = options.now ?? Date.now
    this.signer = signer
    this.peerId = peerIdToString(signer.peerId)
    this.libp2p = libp2p
    this.db = db
    this.store = new SiteStore(db)
    this.limits = resolveLimits(options)
    this.guard = guardLibp2p(libp2p, this.limits, this.log)
    this.storageFailure = watchStorage(db, this.log, failure => { this.safeDispatch('storage', failure) })
    this.discovery = libp2p.services.dht === undefined
      ? undefined
      : new Discovery(libp2p, {
        signer,
        bootstrap: options.bootstrap ?? [],
        publish: true,
        onLookup: event => { this.safeDispatch('lookup', event) }
      })
    this.outbox = new SiteOutbox({
      store: this.store,
      signer,
      epochAgeMs: options.epochAgeMs ?? DEFAULTS.epochAgeMs,
      defaultTtlMs: options.defaultTtlMs ?? DEFAULTS.ttlMs,
      maxTtlMs: options.maxTtlMs ?? DEFAULTS.maxTtlMs,
      maxQueuePerDevice: this.limits.maxQueuePerDevice,
      now,
      onQueued: device => { this.scheduler.nudge(device) },
      onEvent: event => { this.safeDispatch('delivery', event) }
    })
    this.membership = new SiteMembership({
      store: this.store,
      outbox: this.outbox,
      signer,
      siteName: options.name ?? 'TMTP site',
      inviteTtlMs: options.inviteTtlMs ?? DEFAULTS.inviteTtlMs,
      joinsPerMinute: this.limits.joinsPerMinute,
      now,
      addrs: () => this.libp2p.getMultiaddrs().map(ma => ma.decapsulateCode(421).bytes)
    })
    this.scheduler = new DeliveryScheduler({
      backoff: { baseMs: options.retryBaseMs ?? DEFAULTS.retryBaseMs, capMs: options.retryCapMs ?? DEFAULTS.retryCapMs },
      hasWork: async device => await this.outbox.hasWork(device),
      session: async device => {
        try {
          const result = await this.deliver(device)
          this.safeDispatch('session', { device, ok: result.drained, code: result.drained ? undefined : result.error.code })
          return result
        } catch (err) {
          this.safeDispatch('session', { device, ok: false, code: (err as { code?: string }).code ?? 'UNREACHABLE' })
          throw err
        }
      },
      log: this.log
    })
  }

  private safeDispatch<K extends keyof SiteNodeEvents> (type: K, detail: SiteNodeEvents[K]['detail']): void {
    try {
      this.safeDispatchEvent(type, { detail })
    } catch (err) {
      this.log.error('an event listener threw: %e', err)
    }
  }

  async start (): Promise<void> {
    const { maxInboundStreams, streamIdleMs } = this.limits
    const refused = (connection: Connection) => (code: ErrorCode) => { this.guard.refused(connection.remotePeer.toString(), code) }
    await this.libp2p.handle(PROTOCOL_JOIN, async (stream, connection) => {
      const addrs = [connection.remoteAddr.toString()]
      await serveControl(stream, async frame => await this.membership.join(frame, remoteBytes(connection), addrs),
        err => JoinResponse.encode({ code: codeToWire(err.code), memberId: '', siteName: '', detail: err.message }),
        { log: this.log, admit: () => { this.membership.admitJoin(remoteBytes(connection)) }, onRefused: refused(connection) })
      // the remote address is the device's outbound port, which a restarted site cannot dial;
      // identify may have told its listen addresses before the device record existed
      await this.rememberKnownAddrs(connection.remotePeer)
    }, { maxInboundStreams })
    await this.libp2p.handle(PROTOCOL_LEAVE, async (stream, connection) => {
      await serveControl(stream, async frame => {
        await this.membership.leave(frame, remoteBytes(connection))
        return Result.encode({ code: codeToWire(ErrorCode.OK), detail: '' })
      }, err => Result.encode({ code: codeToWire(err.code), detail: err.message }), { log: this.log, onRefused: refused(connection) })
    }, { maxInboundStreams })
    await this.libp2p.handle(PROTOCOL_POST, async (stream, connection) => {
      const sink = siteRepliesSink({
        store: this.store,
        self: this.signer.peerId,
        now: Date.now,
        onReply: reply => { this.safeDispatch('reply', reply) }
      })
      stream.inactivityTimeout = streamIdleMs
      await receiveEnvelopes(new FramedStream(stream, MAX_FRAME_SIZE), sink, { self: this.signer, remote: remoteBytes(connection), log: this.log, onRefused: refused(connection) })
    }, { maxInboundStreams })

    // a member device that connects gets its queued messages at once (spec: "Retries")
    this.libp2p.addEventListener('peer:connect', event => {
      this.scheduler.wake(event.detail.toString())
    })
    this.libp2p.addEventListener('peer:identify', event => {
      const { peerId, listenAddrs } = event.detail
      this.rememberAddrs(peerId.toString(), listenAddrs.map(a => a.toString())).catch(err => { this.log.error('cannot store addresses: %e', err) })
    })
    await this.libp2p.start()
    await this.discovery?.start()

    await this.outbox.sweepExpired()
    for await (const device of this.store.devicesWithOutbox()) {
      const record = await this.store.device(device)
      if (record === undefined) {
        await this.outbox.dropDevice(device, 'the device is no longer a member')
        continue
      }
      await this.libp2p.peerStore.merge(libp2pPeerIdFromString(device), { multiaddrs: record.addrs.map(a => multiaddr(a)) })
      this.scheduler.wake(device)
    }
    this.sweepTimer = setInterval(() => {
      this.outbox.sweepExpired().catch(err => { this.log.error('expiry sweep failed: %e', err) })
    }, DEFAULTS.expirySweepMs)
    this.sweepTimer.unref()
  }

  /** Keeps the listen addresses the peer store holds for a peer, if it is a member device. */
  private async rememberKnownAddrs (peer: PeerId): Promise<void> {
    try {
      const { addresses } = await this.libp2p.peerStore.get(peer)
      await this.rememberAddrs(peer.toString(), addresses.map(a => a.multiaddr.toString()))
    } catch (err) {
      this.log('no addresses of %s to store: %e', peer, err)
    }
  }

  /** Keeps a member device's listen addresses, so a restarted site can dial it again. */
  private async rememberAddrs (peer: string, addrs: string[]): Promise<void> {
    const device = await this.store.device(peer)
    if (device === undefined || addrs.length === 0) return
    const same = addrs.length === device.addrs.length && addrs.every(a => device.addrs.includes(a))
    if (!same) await this.db.write([put(key.device(peer), { ...device, addrs })])
  }

  private async deliver (device: string): Promise<SenderResult> {
    const record = await this.store.device(device)
    if (record === undefined) {
      await this.outbox.dropDevice(device, 'the device is no longer a member')
      return { drained: true }
    }
    const peer = libp2pPeerIdFromString(device)
    if (record.addrs.length > 0) await this.libp2p.peerStore.merge(peer, { multiaddrs: record.addrs.map(a => multiaddr(a)) })
    const stream = await dialWithLookup(this.libp2p, this.discovery, peer, PROTOCOL_DELIVER)
    stream.inactivityTimeout = this.limits.streamIdleMs * 2
    return await sendEnvelopes(new FramedStream(stream, MAX_FRAME_SIZE), this.outbox.queue(device), {
      self: this.signer.peerId,
      remote: peer.toMultihash().bytes,
      window: this.limits.window,
      receiptTimeoutMs: RECEIPT_TIMEOUT_MS,
      idleTimeoutMs: this.limits.streamIdleMs,
      log: this.log
    })
  }

  multiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map(ma => ma.toString())
  }

  createInvite = async (req?: InviteRequest): Promise<IssuedInvite> => await this.membership.createInvite(req)
  send = async (req: SendRequest): Promise<SendResult> => await this.outbox.send(req)
  members = async (): Promise<MemberView[]> => await this.membership.members()
  member = async (idOrRef: string): Promise<MemberView> => await this.membership.member(idOrRef)
  removeMember = async (idOrRef: string): Promise<MemberView> => await this.membership.removeMember(idOrRef)

  async message (id: string): Promise<MessageStatus> {
    const record = typeof id === 'string' && /^[0-9a-f]{32}$/.test(id) ? await this.store.message(id) : undefined
    if (record === undefined) throw new NodeError('UNKNOWN_MESSAGE', `no message ${JSON.stringify(id)}`)
    const statuses = await this.store.statuses(record)
    const proofs = await this.db.getMany(statuses.map(s => s.ack === undefined ? 'ack:' : key.ack(s.ack)))
    return {
      id,
      created: record.created,
      expires: record.expires,
      subject: record.subject,
      urgency: record.urgency,
      topic: record.topic,
      devices: statuses.map((s, i) => ({
        device: s.device,
        member: s.member,
        seq: s.seq,
        state: s.state,
        at: s.at,
        code: s.code,
        detail: s.detail,
        proof: proofs[i] === undefined ? undefined : uint8ArrayToString(proofs[i], 'base64')
      }))
    }
  }

  async replies (opts: { after?: string, limit?: number } = {}): Promise<ReplyView[]> {
    return await this.store.replies({ after: opts.after, limit: opts.limit ?? 100 })
  }

  async stats (): Promise<SiteStats> {
    const states = Object.fromEntries(DELIVERY_STATES.map(s => [s, 0])) as Record<DeliveryState, number>
    for await (const state of this.store.settledStates()) states[state]++
    states.queued = await this.db.count('ob:')
    return { queued: states.queued, activeDeliveries: this.scheduler.active, states }
  }

  async stop (): Promise<void> {
    clearInterval(this.sweepTimer)
    const sessions = this.scheduler.stop()
    await this.discovery?.stop()
    await this.libp2p.stop()
    await sessions
    await this.db.close()
  }
}

/** Creates and starts a site node on its data folder (creating the identity on first start). */
export async function createSiteNode (options: SiteNodeOptions): Promise<SiteNode> {
  const signer = await loadIdentity(options.dataDir)
  const db = await Database.open(join(options.dataDir, DATABASE_DIR), { fsync: options.fsync ?? DEFAULTS.fsync })
  try {
    const metrics = new Registry()
    // the gater needs the node's ban list, and the node needs the libp2p the gater is part of
    const ref: { node?: TmtpSiteNode } = {}
    const libp2p = await createTmtpLibp2p({
      signer,
      listen: options.listen ?? [...DEFAULTS.listen],
      connections: DEFAULTS.site,
      denyPeer: peer => ref.node?.guard.isBanned(peer.toString()) ?? false,
      metrics,
      dht: options.dht === false ? undefined : { role: 'site', server: options.dhtServer ?? true }
    })
    const node = ref.node = new TmtpSiteNode(signer, libp2p, metrics, db, options)
    await node.start()
    return node
  } catch (err) {
    await db.close()
    throw err
  }
}
