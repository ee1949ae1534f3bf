import '../polyfill.js'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { peerIdFromString as libp2pPeerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { signDeviceKey } from '../crypto/device-key.js'
import { peerIdToString, type Ed25519Signer } from '../crypto/ed25519.js'
import { decryptEnvelope, parseEnvelope } from '../crypto/envelope.js'
import { parseInviteToken } from '../crypto/invite.js'
import { signLeave } from '../crypto/leave.js'
import type { X25519KeyPair } from '../crypto/x25519.js'
import { NodeError } from '../util/node-error.js'
import { decodeMultiaddr } from '../discovery/multiaddr.js'
import { FramedStream } from '../delivery/framed-stream.js'
import { EpochCache, memberInboxSink } from '../delivery/member-inbox.js'
import { MemberOutbox } from '../delivery/member-outbox.js'
import { receiveEnvelopes } from '../delivery/receiver.js'
import { backoffDelay } from '../util/backoff.js'
import { DeliveryScheduler } from '../delivery/scheduler.js'
import { sendEnvelopes, type SenderResult } from '../delivery/sender.js'
import { MAX_FRAME_SIZE, MAX_MEMBER_ID_BYTES, MAX_NAME_BYTES, PROTOCOL_DELIVER, PROTOCOL_JOIN, PROTOCOL_LEAVE, PROTOCOL_POST, RECEIPT_TIMEOUT_MS } from '../protocol/constants.js'
import { ErrorCode, TmtpError, codeFromWire } from '../protocol/errors.js'
import { decodeMessage, requireMaxBytes } from '../protocol/messages.js'
import { Envelope, JoinRequest, JoinResponse, Result, type Content } from '../protocol/pb/tmtp.js'
import { Database, put } from '../store/database.js'
import { encodeInboxEntry, key, MemberStore, type InboxRecord, type PostStatus, type JoinedSite } from '../store/member-store.js'
import { dialWithLookup, requestControl, remoteBytes, withLookup } from './control.js'
import { Discovery, type LookupEvent } from '../discovery/discovery.js'
import { DEFAULTS } from './defaults.js'
import { DATABASE_DIR, loadEncryptionKey, loadIdentity } from './identity.js'
import { ConnectionBound } from './connection-bound.js'
import { createTmtpLibp2p, type TmtpLibp2p } from './libp2p.js'
import { watchStorage, type StorageFailure } from './storage-health.js'
import { resolveLimits, type NodeLimits } from './limits.js'
import { guardLibp2p, type PeerGuard } from './peer-guard.js'

/** The limits that apply to a device (src/node/limits.ts) are options too. */
export interface MemberNodeOptions extends Partial<Pick<NodeLimits, 'window' | 'maxInboundStreams' | 'refusalsPerMinute' | 'banMs' | 'streamIdleMs'>> {
  dataDir: string
  /** Display name of this device, shown to sites. */
  deviceName?: string
  /** libp2p listen multiaddrs: sites dial member devices to deliver. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  fsync?: boolean
  retryBaseMs?: number
  retryCapMs?: number
  /** Time to live of replies. @default 7 days */
  replyTtlMs?: number
  /** DHT bootstrap peers: multiaddrs ending with /p2p/<PeerId>. @default [] */
  bootstrap?: string[]
  /** Run the TMTP DHT (as a client) to find sites that moved, and publish this device's addresses. @default true */
  dht?: boolean
  /**
   * Connect to the joined sites on start and every minute (they deliver at once to a device
   * that connects) and use them as DHT bootstrap peers. Off, the device relies on the sites
   * finding it through the DHT. @default true
   */
  connectToSites?: boolean
  /** The most connections this device keeps (joined sites excepted). @default 32 */
  maxConnections?: number
  /** How often the connection bound is enforced again. @default 10 s */
  connectionTrimIntervalMs?: number
  now?: () => number
}

/** A message in the inbox, opened. */
export interface InboxMessage {
  id: string
  site: string
  siteName: string
  seq: number
  subject: string
  body: string
  contentType: string
  thread: string
  replyTo: string
  created: number
  expires: number
  received: number
  read: boolean
}

export interface MemberNodeEvents {
  message: CustomEvent<InboxMessage>
  /** A site's addresses were looked up in the DHT. */
  lookup: CustomEvent<LookupEvent>
  /** A write failed: the device refuses every write (and acknowledges nothing more) until restarted. */
  storage: CustomEvent<StorageFailure>
}

export interface JoinResult {
  site: string
  siteName: string
  member: string
}

/** A running TMTP member node: a device of a member of one or more sites. */
export interface MemberNode extends TypedEventEmitter<MemberNodeEvents> {
  readonly peerId: string
  readonly libp2p: TmtpLibp2p
  multiaddrs: () => string[]
  join: (token: string) => Promise<JoinResult>
  sites: () => Promise<JoinedSite[]>
  leave: (site: string) => Promise<{ site: string, notified: boolean, code?: string }>
  block: (peer: string, reason?: string) => Promise<void>
  unblock: (peer: string) => Promise<void>
  blocked: () => Promise<Array<{ peer: string, at: number, reason: string }>>
  inbox: (opts?: { site?: string, unread?: boolean }) => Promise<InboxMessage[]>
  read: (id: string) => Promise<InboxMessage>
  markRead: (id: string, read?: boolean) => Promise<void>
  reply: (id: string, req: { body: string, subject?: string }) => Promise<PostStatus>
  post: (id: string) => Promise<PostStatus>
  /** Looks a peer's current addresses up in the DHT; true when found (and added to the peer store). */
  locate: (peer: string) => Promise<boolean>
  /** The first write that failed, if one did (see the `storage` event). */
  storageFailure: () => StorageFailure | undefined
  stop: () => Promise<void>
}

class TmtpMemberNode extends TypedEventEmitter<MemberNodeEvents> implements MemberNode {
  readonly peerId: string
  readonly libp2p: TmtpLibp2p
  private readonly db: Database
  private readonly store: MemberStore
  private readonly signer: Ed25519Signer
  private readonly encryption: X25519KeyPair
  private readonly epochs: EpochCache
  private readonly outbox: MemberOutbox
  private readonly scheduler: DeliveryScheduler
  private readonly options: MemberNodeOptions
  private readonly now: () => number
  private readonly blockedPeers = new Set<string>()
  private readonly log = logger('tmtp:member')
  private readonly limits: NodeLimits
  /** Peers banned for too many refused streams (checked by the connection gater). */
  readonly guard: PeerGuard
  readonly storageFailure: () => StorageFailure | undefined
  private discovery?: Discovery
  private readonly bound: ConnectionBound
  /** Joined sites not left, by PeerId, with their names: kept in memory for the per-message path. */
  private readonly joined = new Map<string, string>()
  private readonly siteRetries = new Map<string, NodeJS.Timeout>()
  private stopping = false
  private reconnectTimer?: NodeJS.Timeout

  constructor (signer: Ed25519Signer, encryption: X25519KeyPair, libp2p: TmtpLibp2p, db: Database, options: MemberNodeOptions) {
    super()
    this.signer = signer
    this.encryption = encryption
    this.peerId = peerIdToString(signer.peerId)
    this.libp2p = libp2p
    this.db = db
    this.options = options
    this.now = options.now ?? Date.now
    this.store = new MemberStore(db)
    this.limits = resolveLimits(options)
    this.guard = guardLibp2p(libp2p, this.limits, this.log)
    this.storageFailure = watchStorage(db, this.log, failure => { this.safeDispatchEvent('storage', { detail: failure }) })
    this.epochs = new EpochCache(this.store)
    this.outbox = new MemberOutbox({
      store: this.store,
      signer,
      epochs: this.epochs,
      now: this.now,
      onQueued: site => { this.scheduler.nudge(site) }
    })
    this.bound = new ConnectionBound(libp2p, {
      max: options.maxConnections ?? DEFAULTS.member.maxConnections,
      intervalMs: options.connectionTrimIntervalMs ?? DEFAULTS.connectionTrimIntervalMs,
      keep: peer => this.joined.has(peer)
    })
    this.scheduler = new DeliveryScheduler({
      backoff: { baseMs: options.retryBaseMs ?? DEFAULTS.retryBaseMs, capMs: options.retryCapMs ?? DEFAULTS.retryCapMs },
      hasWork: async site => await this.outbox.hasWork(site),
      session: async site => await this.postTo(site),
      log: this.log
    })
  }

  /** Peers refused at the connection level (libp2p connection gater): blocked, or banned for a while. */
  isBlocked (peer: string): boolean {
    return this.blockedPeers.has(peer) || this.guard.isBanned(peer)
  }

  async start (): Promise<void> {
    for (const [peer] of await this.store.blocked()) this.blockedPeers.add(peer)
    await this.libp2p.handle(PROTOCOL_DELIVER, async (stream, connection) => {
      stream.inactivityTimeout = this.limits.streamIdleMs * 2
      const sink = memberInboxSink({
        store: this.store,
        self: this.signer.peerId,
        devicePrivateKey: this.encryption.privateKey,
        now: this.now,
        epochs: this.epochs,
        onMessage: (record, content) => {
          this.safeDispatchEvent('message', { detail: toMessage(record, content, this.joined.get(record.site) ?? '') })
        }
      })
      await receiveEnvelopes(new FramedStream(stream, MAX_FRAME_SIZE), sink, {
        self: this.signer,
        remote: remoteBytes(connection),
        log: this.log,
        now: this.now,
        onRefused: code => { this.guard.refused(connection.remotePeer.toString(), code) }
      })
    }, { maxInboundStreams: this.limits.maxInboundStreams })
    await this.libp2p.start()
    for (const site of await this.store.sites()) if (site.left === undefined) this.joined.set(site.peerId, site.name)
    this.bound.start()
    const connect = this.options.connectToSites ?? true
    if (this.libp2p.services.dht !== undefined) {
      // joined sites are DHT servers: good bootstrap peers for a device
      const sites = connect ? (await this.store.sites()).filter(s => s.left === undefined) : []
      const bootstrap = [...(this.options.bootstrap ?? []), ...sites.flatMap(s => s.addrs.map(a => `${a}/p2p/${s.peerId}`))]
      this.discovery = new Discovery(this.libp2p, {
        signer: this.signer,
        bootstrap,
        publish: true,
        onLookup: event => { this.safeDispatchEvent('lookup', { detail: event }) }
      })
      await this.discovery.start()
    }
    if (connect) {
      this.connectSites()
      this.reconnectTimer = setInterval(() => { this.connectSites() }, DEFAULTS.reconnectIntervalMs)
      this.reconnectTimer.unref()
    }
  }

  /**
   * Connects to every joined site: a site delivers to a device as soon as it connects, and
   * replies waiting in the outbox go out.
   */
  private connectSites (): void {
    this.store.sites().then(async sites => {
      for (const site of sites) {
        if (site.left !== undefined) continue
        this.connectSite(site, 0)
      }
    }).catch(err => { this.log.error('cannot list sites: %e', err) })
  }

  /**
   * Connects to one site; on failure tries again after a short jittered backoff rather than
   * at the next reconnect tick, so that many devices coming back at once (a site's restart,
   * a network outage) spread out instead of all waiting a full interval.
   */
  private connectSite (site: JoinedSite, attempt: number): void {
    clearTimeout(this.siteRetries.get(site.peerId))
    this.siteRetries.delete(site.peerId)
    this.dialSite(site).then(() => {
      this.scheduler.wake(site.peerId)
    }, err => {
      this.log('site %s unreachable: %e', site.peerId, err)
      if (this.stopping || !this.joined.has(site.peerId)) return
      const delay = backoffDelay(attempt, { baseMs: this.options.retryBaseMs ?? DEFAULTS.retryBaseMs, capMs: DEFAULTS.reconnectIntervalMs })
      const timer = setTimeout(() => { this.connectSite(site, attempt + 1) }, delay)
      timer.unref()
      this.siteRetries.set(site.peerId, timer)
    })
  }

  private async dialSite (site: JoinedSite): Promise<void> {
    const peer = libp2pPeerIdFromString(site.peerId)
    if (this.libp2p.getConnections(peer).length > 0) return
    if (site.addrs.length > 0) await this.libp2p.peerStore.merge(peer, { multiaddrs: site.addrs.map(a => multiaddr(a)) })
    // if the site moved, find where it is now (spec: "Lookups")
    await withLookup(this.libp2p, this.discovery, peer, async () => await this.libp2p.dial(peer, { signal: AbortSignal.timeout(RECEIPT_TIMEOUT_MS) }))
  }

  private async postTo (site: string): Promise<SenderResult> {
    const record = await this.store.site(site)
    if (record === undefined || record.left !== undefined) return { drained: true }
    await this.dialSite(record)
    const peer = libp2pPeerIdFromString(site)
    const stream = await dialWithLookup(this.libp2p, this.discovery, peer, PROTOCOL_POST)
    stream.inactivityTimeout = this.limits.streamIdleMs * 2
    return await sendEnvelopes(new FramedStream(stream, MAX_FRAME_SIZE), this.outbox.queue(site), {
      self: this.signer.peerId,
      remote: peer.toMultihash().bytes,
      window: this.limits.window,
      receiptTimeoutMs: RECEIPT_TIMEOUT_MS,
      // replies are rare: let the stream go as soon as the outbox is empty
      idleTimeoutMs: 0,
      log: this.log
    })
  }

  multiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map(ma => ma.toString())
  }

  async join (token: string): Promise<JoinResult> {
    if (typeof token !== 'string') throw new NodeError('INVALID_ARGUMENT', 'an invite token is a string')
    const { invite, signed } = parseInviteToken(token, this.now())
    const site = peerIdToString(invite.site)
    if (this.blockedPeers.has(site)) throw new TmtpError(ErrorCode.BLOCKED, 'you blocked this site: unblock it first')
    const addrs: string[] = []
    invite.addrs.forEach((bytes, i) => {
      try {
        addrs.push(decodeMultiaddr(bytes, `invite addrs[${i}]`).toString())
      } catch {
        // a hint that does not parse is ignored; the DHT or a later connection may help
      }
    })
    const peer = libp2pPeerIdFromString(site)
    if (addrs.length > 0) await this.libp2p.peerStore.merge(peer, { multiaddrs: addrs.map(a => multiaddr(a)) })
    const request = JoinRequest.encode({
      invite: signed as Uint8Array<ArrayBuffer>,
      deviceKey: signDeviceKey(this.signer, this.encryption.publicKey, this.now()) as Uint8Array<ArrayBuffer>,
      deviceName: this.options.deviceName ?? ''
    })
    const response = decodeMessage(JoinResponse, await requestControl(this.libp2p, this.discovery, site, PROTOCOL_JOIN, request), 'join response')
    const code = codeFromWire(response.code)
    if (code !== ErrorCode.OK) throw new TmtpError(code, `the site refused the join: ${response.detail}`)
    requireMaxBytes(response.memberId, MAX_MEMBER_ID_BYTES, 'member id')
    requireMaxBytes(response.siteName, MAX_NAME_BYTES, 'site name')
    const record: JoinedSite = {
      peerId: site,
      name: response.siteName !== '' ? response.siteName : invite.siteName,
      member: response.memberId,
      addrs,
      joined: this.now()
    }
    await this.db.write([put(key.site(site), record)])
    this.joined.set(site, record.name)
    this.scheduler.wake(site)
    return { site, siteName: record.name, member: record.member }
  }

  async sites (): Promise<JoinedSite[]> {
    return await this.store.sites()
  }

  /**
   * Leaves a site: tells it (signed), then blocks it locally whatever it answered, so that
   * nothing from it is accepted again (spec: "/tmtp/leave/1.0.0").
   */
  async leave (site: string): Promise<{ site: string, notified: boolean, code?: string }> {
    const record = await this.requireSite(site)
    let notified = false
    let code: string | undefined
    try {
      const answer = decodeMessage(Result, await requestControl(this.libp2p, this.discovery, site, PROTOCOL_LEAVE, signLeave(this.signer, libp2pPeerIdFromString(site).toMultihash().bytes, this.now())), 'leave result')
      code = codeFromWire(answer.code)
      notified = code === ErrorCode.OK
    } catch (err) {
      code = err instanceof TmtpError ? err.code : 'UNREACHABLE'
      this.log('could not tell %s about leaving: %e', site, err)
    }
    await this.db.write([put(key.site(site), { ...record, left: this.now() })])
    this.joined.delete(site)
    await this.block(site, 'left the site')
    this.epochs.forget(site)
    return { site, notified, code }
  }

  async locate (peer: string): Promise<boolean> {
    return await this.discovery?.locate(libp2pPeerIdFromString(peer)) ?? false
  }

  async block (peer: string, reason = 'blocked by the member'): Promise<void> {
    try {
      libp2pPeerIdFromString(peer)
    } catch {
      throw new NodeError('INVALID_ARGUMENT', `not a PeerId: ${JSON.stringify(peer)}`)
    }
    await this.db.write([put(key.block(peer), { at: this.now(), reason })])
    this.blockedPeers.add(peer)
    for (const connection of this.libp2p.getConnections(libp2pPeerIdFromString(peer))) {
      await connection.close().catch(() => {})
    }
  }

  async unblock (peer: string): Promise<void> {
    await this.db.write([{ key: key.block(peer) }])
    this.blockedPeers.delete(peer)
  }

  async blocked (): Promise<Array<{ peer: string, at: number, reason: string }>> {
    return (await this.store.blocked()).map(([peer, b]) => ({ peer, at: b.at, reason: b.reason }))
  }

  private async requireSite (site: string): Promise<JoinedSite> {
    const record = typeof site === 'string' ? await this.store.site(site) : undefined
    if (record === undefined) throw new NodeError('UNKNOWN_SITE', `not a member of site ${JSON.stringify(site)}`)
    return record
  }

  async inbox (opts: { site?: string, unread?: boolean } = {}): Promise<InboxMessage[]> {
    const names = new Map((await this.store.sites()).map(s => [s.peerId, s.name]))
    const out: InboxMessage[] = []
    for await (const record of this.store.inbox(opts.site)) {
      if (opts.unread === true && record.read) continue
      out.push(await this.open(record, names.get(record.site) ?? ''))
    }
    return out
  }

  async read (id: string): Promise<InboxMessage> {
    const record = typeof id === 'string' ? await this.store.inboxById(id) : undefined
    if (record === undefined) throw new NodeError('UNKNOWN_MESSAGE', `no message ${JSON.stringify(id)} in the inbox`)
    if (!record.read) await this.db.write([put(key.inbox(record.site, record.seq), encodeInboxEntry({ ...record, read: true }))])
    const site = await this.store.site(record.site)
    return await this.open({ ...record, read: true }, site?.name ?? '')
  }

  async markRead (id: string, read = true): Promise<void> {
    const record = typeof id === 'string' ? await this.store.inboxById(id) : undefined
    if (record === undefined) throw new NodeError('UNKNOWN_MESSAGE', `no message ${JSON.stringify(id)} in the inbox`)
    await this.db.write([put(key.inbox(record.site, record.seq), encodeInboxEntry({ ...record, read }))])
  }

  /** Opens a stored envelope with its epoch's key: the inbox keeps messages sealed. */
  private async open (record: InboxRecord, siteName: string): Promise<InboxMessage> {
    const epoch = (await this.epochs.load(record.site)).get(record.epoch)
    if (epoch === undefined) throw new NodeError('NO_KEY_EPOCH', `the key epoch of message ${record.id} is missing`)
    const content = decryptEnvelope(epoch.keys.siteToDevice, parseEnvelope(Envelope.decode(record.envelope)))
    return toMessage(record, content, siteName)
  }

  async reply (id: string, req: { body: string, subject?: string }): Promise<PostStatus> {
    const original = await this.read(id)
    return await this.outbox.post(original.site, {
      subject: req.subject ?? (original.subject.startsWith('Re: ') ? original.subject : `Re: ${original.subject}`),
      body: req.body,
      replyTo: original.id,
      thread: original.thread !== '' ? original.thread : original.id,
      ttlMs: this.options.replyTtlMs ?? DEFAULTS.ttlMs
    })
  }

  async post (id: string): Promise<PostStatus> {
    const record = typeof id === 'string' ? await this.store.post(id) : undefined
    if (record === undefined) throw new NodeError('UNKNOWN_MESSAGE', `no reply ${JSON.stringify(id)}`)
    return record
  }

  async stop (): Promise<void> {
    this.stopping = true
    clearInterval(this.reconnectTimer)
    for (const timer of this.siteRetries.values()) clearTimeout(timer)
    this.bound.stop()
    const sessions = this.scheduler.stop()
    await this.discovery?.stop()
    await this.libp2p.stop()
    await sessions
    await this.db.close()
  }
}

function toMessage (record: InboxRecord, content: Content, siteName: string): InboxMessage {
  return {
    id: record.id,
    site: record.site,
    siteName,
    seq: record.seq,
    subject: content.subject,
    body: content.body,
    contentType: content.contentType,
    thread: uint8ArrayToString(content.thread, 'base16'),
    replyTo: uint8ArrayToString(content.replyTo, 'base16'),
    created: record.created,
    expires: record.expires,
    received: record.received,
    read: record.read
  }
}

/** Creates and starts a member node on its data folder (creating its keys on first start). */
export async function createMemberNode (options: MemberNodeOptions): Promise<MemberNode> {
  const signer = await loadIdentity(options.dataDir)
  const encryption = await loadEncryptionKey(options.dataDir)
  const db = await Database.open(join(options.dataDir, DATABASE_DIR), { fsync: options.fsync ?? DEFAULTS.fsync })
  try {
    // the gater needs the node's block list, and the node needs the libp2p the gater is part of
    const ref: { node?: TmtpMemberNode } = {}
    const libp2p = await createTmtpLibp2p({
      signer,
      listen: options.listen ?? [...DEFAULTS.listen],
      connections: { ...DEFAULTS.member, maxConnections: options.maxConnections ?? DEFAULTS.member.maxConnections },
      denyPeer: peer => ref.node?.isBlocked(peer.toString()) ?? false,
      dht: options.dht === false ? undefined : { role: 'member' }
    })
    const node = ref.node = new TmtpMemberNode(signer, encryption, libp2p, db, options)
    await node.start()
    return node
  } catch (err) {
    await db.close()
    throw err
  }
}
