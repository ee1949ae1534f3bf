import '../polyfill.js'
import { peerIdFromString as libp2pPeerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decryptEnvelope, parseEnvelope, parseInviteToken, peerIdToString, signDeviceKey, signLeave, type DeviceIdentity, type X25519KeyPair } from '../crypto/index.js'
import { Courier, EpochCache, FramedStream, memberInboxSink, MemberOutbox, receiveEnvelopes, Redialer } from '../delivery/index.js'
import { decodeMultiaddr, keepableAddrs, type AddressScope, type LookupEvent } from '../discovery/index.js'
import { codeFromWire, decodeMessage, Envelope, ErrorCode, JoinRequest, JoinResponse, MAX_FRAME_SIZE, MAX_MEMBER_ID_BYTES, MAX_NAME_BYTES, PROTOCOL_BLOB, PROTOCOL_DELIVER, PROTOCOL_JOIN, PROTOCOL_LEAVE, PROTOCOL_POST, RECEIPT_TIMEOUT_MS, requireMaxBytes, Result, TmtpError, type Content } from '../protocol/index.js'
import { AttachmentStore, MemberStore, type InboxRecord, type JoinedSite, type PostStatus, type Write } from '../store/index.js'
import { MemberAttachments, type AttachmentEvent, type AttachmentStatus } from './member-attachments.js'
import type { AttachmentFiles } from './attachment-files.js'
import { NodeError, unref, toHex } from '../util/index.js'
import { ConnectionBound } from './connection-bound.js'
import { dialWithLookup, requestControl, remoteBytes, withLookup } from './control.js'
import { DEFAULTS } from './defaults.js'
import { platform } from '#node-platform'
import { resolveLimits, type NodeLimits } from './limits.js'
import type { TypedEventEmitter } from 'main-event'
import { NodeShell } from './node-shell.js'
import { RoleNode, type RoleNodeEvents } from './role-node.js'
import type { TmtpLibp2p } from './libp2p.js'
import type { StorageFailure } from './storage-health.js'
import type { ComponentLogger, Stream } from '@libp2p/interface'

/** The limits that apply to a device (src/node/limits.ts) are options too. */
export interface MemberNodeOptions extends Partial<Pick<NodeLimits, 'window' | 'maxInboundStreams' | 'refusalsPerMinute' | 'banMs' | 'streamIdleMs' | 'autoFetchBytes' | 'ackDelayMs'>> {
  dataDir: string
  /** Display name of this device, shown to sites. */
  deviceName?: string
  /** libp2p listen multiaddrs: sites dial member devices to deliver. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** fsync every group-committed batch (power-loss safe, as acknowledgements state). @default true */
  fsync?: boolean
  retryBaseMs?: number
  retryCapMs?: number
  /** Time to live of replies. @default 7 days */
  replyTtlMs?: number
  /** DHT bootstrap peers: multiaddrs ending with /p2p/<PeerId>. @default [] */
  bootstrap?: string[]
  /** Where the node and its libp2p log (a prefixed logger tells the nodes of one process apart). @default libp2p's default logger */
  logger?: ComponentLogger
  /** Which addresses of other peers this node stores and dials (src/discovery/address-scope.ts). @default 'all'; 'public' for a site on the Internet */
  addressScope?: AddressScope
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
  /** How often each connection is pinged; one whose ping fails is dropped (and a site's dialled again). @default 60 s */
  pingIntervalMs?: number
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
  /** The display name of the site's group the message was sent to (spec 11.2), or ''. */
  group: string
  /** Files the message carries (spec 11.2), each with whether this device holds it yet. */
  attachments: InboxAttachment[]
  created: number
  expires: number
  received: number
  read: boolean
}

/** An attachment of a message, as the member sees it: `available` (fetched when asked), `wanted` (being fetched), `fetched` (the file is here), `failed` (with its code). */
export type InboxAttachment = {
  index: number
  name: string
  mediaType: string
  size: number
  /** SHA-256 of the file, hex. */
  sha256: string
} & AttachmentStatus

/** A fetched attachment's file. */
export interface AttachmentFile {
  /**
   * Where the file is on disk, to stream it from (Node.js: in the data folder's attachments/).
   * A device in a browser tab keeps its files in IndexedDB and has no path: '' there.
   */
  path: string
  name: string
  mediaType: string
  size: number
  /** The file's bytes as a Blob of its media type, on either platform: read from disk as consumed on Node.js, from IndexedDB in a tab. */
  blob: () => Promise<Blob>
}

export interface MemberNodeEvents extends RoleNodeEvents {
  message: CustomEvent<InboxMessage>
  /** An attachment was fetched, given up, or is to be tried again after a failure (with its code). */
  attachment: CustomEvent<AttachmentEvent>
  /** A site's addresses were looked up in the DHT. */
  lookup: CustomEvent<LookupEvent>
}

/** Which site's message an id means, where two sites sent the same id. */
export interface MessageSelector {
  site?: string
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
  /**
   * One message, marked read. Ids are unique per site only: where two joined sites sent the
   * same id, `site` (a PeerId) says which message is meant (else INVALID_ARGUMENT).
   */
  read: (id: string, opts?: MessageSelector) => Promise<InboxMessage>
  markRead: (id: string, read?: boolean, opts?: MessageSelector) => Promise<void>
  reply: (id: string, req: { body: string, subject?: string } & MessageSelector) => Promise<PostStatus>
  /**
   * Attachment `index` of a message as a file: fetched first from its site if this device does
   * not hold it yet (spec 15.6; one fetch per attachment however often it is asked for).
   * UNKNOWN_ATTACHMENT for an index the message does not have; the protocol's code when the
   * fetch fails (UNKNOWN_BLOB once the site deleted it); ATTACHMENTS_NOT_SUPPORTED on a
   * platform that keeps no files (Node.js and a browser tab both do).
   */
  attachmentFile: (id: string, index: number, opts?: MessageSelector) => Promise<AttachmentFile>
  /**
   * Deletes a message from the inbox, with its attachments' files. Its id stays known: the same
   * message sent again is acknowledged as a duplicate, not stored (spec 11.7).
   */
  deleteMessage: (id: string, opts?: MessageSelector) => Promise<void>
  post: (id: string) => Promise<PostStatus>
  /** Looks a peer's current addresses up in the DHT; true when found (and added to the peer store). */
  locate: (peer: string) => Promise<boolean>
  /** The first write that failed, if one did (see the `storage` event). */
  storageFailure: () => StorageFailure | undefined
  /**
   * The device's identity, for a backup (sealBackup): its Ed25519 seed, its X25519 private key
   * and its sites, joined and left. Secrets: seal them, never log them; the keys are copies, the
   * caller's to zero.
   */
  exportIdentity: () => Promise<DeviceIdentity>
  stop: () => Promise<void>
}

/** Why a site the member left is blocked: leaving is final (spec section 15.4). */
const LEFT_SITE = 'left the site'

class TmtpMemberNode extends RoleNode<MemberNodeEvents> implements MemberNode {
  private readonly store: MemberStore
  private readonly encryption: X25519KeyPair
  private readonly epochs: EpochCache
  private readonly outbox: MemberOutbox
  /** Carries replies to the sites. */
  private readonly courier: Courier
  /** Keeps a connection to every joined site, redialling with backoff. */
  private readonly connector: Redialer
  private readonly options: MemberNodeOptions
  private readonly now: () => number
  private readonly blockedPeers: Set<string>
  private readonly bound: ConnectionBound
  /** Joined sites not left, by PeerId, with their names: kept in memory for the per-message path. */
  private readonly joined = new Map<string, string>()
  private readonly attachments: MemberAttachments
  private readonly files: AttachmentFiles | undefined
  private reconnectTimer?: NodeJS.Timeout

  constructor (shell: NodeShell, store: MemberStore, files: AttachmentFiles | undefined, encryption: X25519KeyPair, blocked: Set<string>, limits: NodeLimits, options: MemberNodeOptions) {
    super(shell, limits)
    this.encryption = encryption
    this.blockedPeers = blocked
    this.options = options
    this.now = options.now ?? Date.now
    this.store = store
    this.files = files
    this.epochs = new EpochCache(this.store)
    this.outbox = new MemberOutbox({ store: this.store, signer: shell.signer, epochs: this.epochs, now: this.now })
    this.bound = new ConnectionBound(this.libp2p, {
      max: options.maxConnections ?? DEFAULTS.member.maxConnections,
      intervalMs: options.connectionTrimIntervalMs ?? DEFAULTS.connectionTrimIntervalMs,
      keep: peer => this.joined.has(peer)
    })
    const retryBaseMs = options.retryBaseMs ?? DEFAULTS.retryBaseMs
    this.courier = new Courier({
      outbox: this.outbox,
      open: async site => await this.openPost(site),
      self: shell.signer.peerId,
      window: limits.window,
      // replies are rare: let the stream go as soon as the outbox is empty
      idleTimeoutMs: 0,
      inactivityTimeoutMs: limits.streamIdleMs * 2,
      backoff: { baseMs: retryBaseMs, capMs: options.retryCapMs ?? DEFAULTS.retryCapMs },
      log: this.log
    })
    this.attachments = new MemberAttachments({
      store: new AttachmentStore(shell.db),
      files,
      self: shell.signer.peerId,
      autoFetchBytes: limits.autoFetchBytes,
      open: async site => await this.openBlob(site),
      attachmentsOf: async (site, id) => (await this.openContent(await this.inboxRecord(id, { site }))).attachments,
      backoff: { baseMs: retryBaseMs, capMs: options.retryCapMs ?? DEFAULTS.retryCapMs },
      now: this.now,
      log: this.log,
      onEvent: event => { this.dispatch('attachment', event) }
    })
    this.connector = new Redialer({
      wanted: site => this.joined.has(site) && !this.blockedPeers.has(site) && this.libp2p.getConnections(libp2pPeerIdFromString(site)).length === 0,
      dial: async site => { await this.dialSite(site) },
      // replies waiting for the site go out at once
      onConnected: site => { this.courier.wake(site) },
      backoff: { baseMs: retryBaseMs, capMs: DEFAULTS.reconnectIntervalMs },
      log: this.log
    })
  }

  async start (): Promise<void> {
    await this.libp2p.handle(PROTOCOL_DELIVER, async (stream, connection) => {
      stream.inactivityTimeout = this.limits.streamIdleMs * 2
      const sink = memberInboxSink({
        store: this.store,
        self: this.shell.signer.peerId,
        devicePrivateKey: this.encryption.privateKey,
        now: this.now,
        epochs: this.epochs,
        onMessage: (record, content) => {
          this.attachments.received(record.site, record.id, content.attachments)
          this.dispatch('message', toMessage(record, content, this.joined.get(record.site) ?? '', content.attachments.map(a => this.attachments.initialStatus(a))))
        }
      })
      await receiveEnvelopes(new FramedStream(stream, MAX_FRAME_SIZE), sink, {
        self: this.shell.signer,
        remote: remoteBytes(connection),
        log: this.log,
        now: this.now,
        ackDelayMs: this.limits.ackDelayMs,
        onRefused: code => { this.shell.guard.refused(connection.remotePeer.toString(), code) }
      })
    }, { maxInboundStreams: this.limits.maxInboundStreams })
    const sites = (await this.store.sites()).filter(s => s.left === undefined)
    for (const site of sites) this.joined.set(site.peerId, site.name)
    const connect = this.options.connectToSites ?? true
    // joined sites are DHT servers: good bootstrap peers for a device
    const bootstrap = [...(this.options.bootstrap ?? []), ...(connect ? sites.flatMap(s => s.addrs.map(a => `${a}/p2p/${s.peerId}`)) : [])]
    await this.shell.start({ bootstrap, publish: true, onLookup: event => { this.dispatch('lookup', event) } })
    this.bound.start()
    // however the device and a site connect (its dial, the site's), reports of fetched attachments the site missed go again
    this.libp2p.addEventListener('peer:connect', event => {
      const site = event.detail.toString()
      if (this.joined.has(site)) this.retryReports(site)
    })
    await this.attachments.resume()
    if (connect) {
      this.connectSites()
      this.reconnectTimer = setInterval(() => {
        this.connectSites()
        this.retryReports()
      }, DEFAULTS.reconnectIntervalMs)
      unref(this.reconnectTimer)
      // a site that went away (it restarted, the network dropped) is dialled again at once, then
      // with backoff: a device that cannot listen (a browser tab) is reachable only this way
      this.libp2p.addEventListener('peer:disconnect', event => {
        const site = event.detail.toString()
        if (this.joined.has(site)) this.connector.wake(site)
      })
    }
  }

  private retryReports (site?: string): void {
    this.attachments.retryReports(site).catch(err => { this.log('cannot read the reports owed: %e', err) })
  }

  /**
   * Connects to every joined site: a site delivers to a device as soon as it connects, and
   * replies waiting in the outbox go out.
   */
  private connectSites (): void {
    for (const site of this.joined.keys()) this.connector.wake(site)
  }

  private async dialSite (site: string): Promise<void> {
    const peer = libp2pPeerIdFromString(site)
    if (this.libp2p.getConnections(peer).length > 0) return
    const record = await this.store.site(site)
    if (record !== undefined && record.addrs.length > 0) await this.libp2p.peerStore.merge(peer, { multiaddrs: record.addrs.map(a => multiaddr(a)) })
    // if the site moved, find where it is now (spec section 16.7)
    await withLookup(this.libp2p, this.shell.discovery, peer, async () => await this.libp2p.dial(peer, { signal: AbortSignal.timeout(RECEIPT_TIMEOUT_MS) }))
  }

  /** A blob stream to a joined site (spec 15.6), idle-bounded as the deliver and post streams are. */
  private async openBlob (site: string): Promise<Stream> {
    if (!this.joined.has(site)) throw new TmtpError(ErrorCode.NOT_MEMBER, `not a member of site ${site}`)
    await this.dialSite(site)
    const stream = await dialWithLookup(this.libp2p, this.shell.discovery, libp2pPeerIdFromString(site), PROTOCOL_BLOB)
    stream.inactivityTimeout = this.limits.streamIdleMs
    return stream
  }

  /** The courier's dialler: a post stream to a joined site. */
  private async openPost (site: string): Promise<Stream | undefined> {
    if (!this.joined.has(site)) return undefined
    await this.dialSite(site)
    return await dialWithLookup(this.libp2p, this.shell.discovery, libp2pPeerIdFromString(site), PROTOCOL_POST)
  }

  async join (token: string): Promise<JoinResult> {
    if (typeof token !== 'string') throw new NodeError('INVALID_ARGUMENT', 'an invite token is a string')
    const { invite, signed } = parseInviteToken(token, this.now())
    const site = peerIdToString(invite.site)
    if (this.blockedPeers.has(site)) throw new TmtpError(ErrorCode.BLOCKED, 'you blocked this site: unblock it first')
    const hints: string[] = []
    invite.addrs.forEach((bytes, i) => {
      try {
        hints.push(decodeMultiaddr(bytes, `invite addrs[${i}]`).toString())
      } catch {
        // a hint that does not parse is ignored; the DHT or a later connection may help
      }
    })
    const addrs = keepableAddrs(hints, this.options.addressScope ?? DEFAULTS.addressScope)
    const peer = libp2pPeerIdFromString(site)
    if (addrs.length > 0) await this.libp2p.peerStore.merge(peer, { multiaddrs: addrs.map(a => multiaddr(a)) })
    const request = JoinRequest.encode({
      invite: signed as Uint8Array<ArrayBuffer>,
      deviceKey: signDeviceKey(this.shell.signer, this.encryption.publicKey, this.now()) as Uint8Array<ArrayBuffer>,
      deviceName: this.options.deviceName ?? ''
    })
    const response = decodeMessage(JoinResponse, await requestControl(this.libp2p, this.shell.discovery, site, PROTOCOL_JOIN, request), 'join response')
    const code = codeFromWire(response.code)
    if (code !== ErrorCode.OK) throw new TmtpError(code, `the site refused the join: ${response.detail}`)
    // spec 15.1: OK without a member id is a failed join, not a membership under no name
    if (response.memberId === '') throw new TmtpError(ErrorCode.BAD_FRAME, 'the site answered OK without a member id')
    requireMaxBytes(response.memberId, MAX_MEMBER_ID_BYTES, 'member id')
    requireMaxBytes(response.siteName, MAX_NAME_BYTES, 'site name')
    const record: JoinedSite = {
      peerId: site,
      name: response.siteName !== '' ? response.siteName : invite.siteName,
      member: response.memberId,
      addrs,
      joined: this.now()
    }
    await this.store.write(this.store.putSite(record))
    this.joined.set(site, record.name)
    this.courier.wake(site)
    return { site, siteName: record.name, member: record.member }
  }

  async sites (): Promise<JoinedSite[]> {
    return await this.store.sites()
  }

  /**
   * Leaves a site: tells it (signed), then blocks it locally whatever it answered, so that
   * nothing from it is accepted again (spec section 15.4).
   */
  async leave (site: string): Promise<{ site: string, notified: boolean, code?: string }> {
    const record = await this.requireSite(site)
    // leaving is final whatever the site answers: from now on the device does not redial it
    // (the site closes its connections once it has answered)
    this.joined.delete(site)
    let notified = false
    let code: string | undefined
    try {
      const answer = decodeMessage(Result, await requestControl(this.libp2p, this.shell.discovery, site, PROTOCOL_LEAVE, signLeave(this.shell.signer, libp2pPeerIdFromString(site).toMultihash().bytes, this.now())), 'leave result')
      code = codeFromWire(answer.code)
      notified = code === ErrorCode.OK
    } catch (err) {
      code = err instanceof TmtpError ? err.code : 'UNREACHABLE'
      this.log('could not tell %s about leaving: %e', site, err)
    }
    await this.store.write(this.store.putSite({ ...record, left: this.now() }))
    await this.block(site, LEFT_SITE)
    this.epochs.forget(site)
    return { site, notified, code }
  }

  async locate (peer: string): Promise<boolean> {
    return await this.shell.discovery?.locate(libp2pPeerIdFromString(peer)) ?? false
  }

  async block (peer: string, reason = 'blocked by the member'): Promise<void> {
    try {
      libp2pPeerIdFromString(peer)
    } catch {
      throw new NodeError('INVALID_ARGUMENT', `not a PeerId: ${JSON.stringify(peer)}`)
    }
    await this.store.write(this.store.block(peer, { at: this.now(), reason }))
    this.blockedPeers.add(peer)
    // ends the streams open now; the site may connect again, and is answered BLOCKED
    await this.closeConnections(peer)
  }

  async unblock (peer: string): Promise<void> {
    await this.store.write(this.store.unblock(peer))
    this.blockedPeers.delete(peer)
    // a site answered BLOCKED retries only at its backoff cap, or when the device connects anew
    await this.closeConnections(peer)
    if (this.joined.has(peer) && (this.options.connectToSites ?? true)) this.connector.wake(peer)
  }

  private async closeConnections (peer: string): Promise<void> {
    for (const connection of this.libp2p.getConnections(libp2pPeerIdFromString(peer))) {
      await connection.close().catch(() => {})
    }
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

  async read (id: string, opts: MessageSelector = {}): Promise<InboxMessage> {
    const record = await this.inboxRecord(id, opts)
    if (!record.read) await this.store.write(this.store.setRead(record, true))
    const site = await this.store.site(record.site)
    return await this.open({ ...record, read: true }, site?.name ?? '')
  }

  async markRead (id: string, read = true, opts: MessageSelector = {}): Promise<void> {
    const record = await this.inboxRecord(id, opts)
    await this.store.write(this.store.setRead(record, read))
  }

  private async inboxRecord (id: string, opts: MessageSelector): Promise<InboxRecord> {
    const found = typeof id === 'string' ? await this.store.inboxById(id) : []
    const matching = opts.site === undefined ? found : found.filter(r => r.site === opts.site)
    if (matching.length === 0) throw new NodeError('UNKNOWN_MESSAGE', `no message ${JSON.stringify(id)} in the inbox${opts.site === undefined ? '' : ` from site ${JSON.stringify(opts.site)}`}`)
    if (matching.length > 1) throw new NodeError('INVALID_ARGUMENT', `two sites sent a message ${id}: name the site (${matching.map(r => r.site).join(', ')})`)
    return matching[0]
  }

  /** Opens a stored envelope with its epoch's key: the inbox keeps messages sealed. */
  private async open (record: InboxRecord, siteName: string): Promise<InboxMessage> {
    const content = await this.openContent(record)
    const states = content.attachments.length === 0 ? [] : await this.attachments.states(record.site, record.id, content.attachments.length)
    return toMessage(record, content, siteName, states)
  }

  private async openContent (record: InboxRecord): Promise<Content> {
    const epoch = (await this.epochs.load(record.site)).get(record.epoch)
    if (epoch === undefined) throw new NodeError('NO_KEY_EPOCH', `the key epoch of message ${record.id} is missing`)
    return decryptEnvelope(epoch.keys.siteToDevice, parseEnvelope(Envelope.decode(record.envelope)))
  }

  async deleteMessage (id: string, opts: MessageSelector = {}): Promise<void> {
    const record = await this.inboxRecord(id, opts)
    const { attachments } = await this.openContent(record)
    await this.store.write(this.store.deleteInbox(record))
    if (attachments.length > 0) await this.attachments.remove(record.site, record.id, attachments.length)
  }

  async attachmentFile (id: string, index: number, opts: MessageSelector = {}): Promise<AttachmentFile> {
    const record = await this.inboxRecord(id, opts)
    const attachment = Number.isSafeInteger(index) ? (await this.openContent(record)).attachments[index] : undefined
    if (attachment === undefined) throw new NodeError('UNKNOWN_ATTACHMENT', `message ${id} has no attachment ${JSON.stringify(index)}`)
    const file = await this.attachments.fetch({ site: record.site, id: record.id, index }, attachment)
    return { path: file.path ?? '', name: attachment.name, mediaType: attachment.mediaType, size: attachment.size, blob: async () => await file.blob(attachment.mediaType) }
  }

  async reply (id: string, req: { body: string, subject?: string } & MessageSelector): Promise<PostStatus> {
    const original = await this.read(id, { site: req.site })
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

  async exportIdentity (): Promise<DeviceIdentity> {
    return { ed25519: Uint8Array.from(this.shell.signer.seed), x25519: Uint8Array.from(this.encryption.privateKey), sites: await this.store.sites() }
  }

  async stop (): Promise<void> {
    clearInterval(this.reconnectTimer)
    this.attachments.stop()
    this.bound.stop()
    const sessions = Promise.all([this.courier.stop(), this.connector.stop()])
    try {
      await this.shell.stop(sessions)
    } finally {
      await this.files?.close?.()
    }
  }
}

function toMessage (record: InboxRecord, content: Content, siteName: string, states: AttachmentStatus[]): InboxMessage {
  return {
    id: record.id,
    site: record.site,
    siteName,
    seq: record.seq,
    subject: content.subject,
    body: content.body,
    contentType: content.contentType,
    thread: toHex(content.thread),
    replyTo: toHex(content.replyTo),
    group: content.group,
    attachments: content.attachments.map((a, index) => ({
      index,
      name: a.name,
      mediaType: a.mediaType,
      size: a.size,
      sha256: toHex(a.sha256),
      ...(states[index] ?? { state: 'available' })
    })),
    created: record.created,
    expires: record.expires,
    received: record.received,
    read: record.read
  }
}

/** Creates and starts a member node on its data folder (creating its keys on first start). */
export async function createMemberNode (options: MemberNodeOptions): Promise<MemberNode> {
  const limits = resolveLimits(options)
  const encryption = await platform.loadEncryptionKey(options.dataDir)
  // a blocked site may connect: its deliver streams are answered BLOCKED (spec 15.2), so it can tell blocked from unreachable and back off for good
  const blocked = new Set<string>()
  const shell = await NodeShell.open({
    dataDir: options.dataDir,
    fsync: options.fsync ?? DEFAULTS.fsync,
    memtableBytes: DEFAULTS.memberMemtableBytes,
    listen: options.listen ?? [...DEFAULTS.listen],
    connections: { ...DEFAULTS.member, maxConnections: options.maxConnections ?? DEFAULTS.member.maxConnections, pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.member.pingIntervalMs },
    dht: options.dht === false ? undefined : { role: 'member' },
    limits,
    logger: options.logger,
    addressScope: options.addressScope ?? DEFAULTS.addressScope,
    component: 'tmtp:member'
  })
  let files: AttachmentFiles | undefined
  try {
    const store = await MemberStore.open(shell.db)
    for (const [peer] of await store.blocked()) blocked.add(peer)
    files = await platform.attachmentFiles?.(options.dataDir)
    const node = new TmtpMemberNode(shell, store, files, encryption, blocked, limits, options)
    await node.start()
    return node
  } catch (err) {
    await shell.abort()
    await files?.close?.().catch(() => {})
    throw err
  }
}

/**
 * Makes a member device of a backed-up identity (openBackup's), before its node starts on
 * `dataDir`: its keys (the platform's restoreIdentity) and its sites, so that the node
 * reconnects to them without new invites (a site knows a device by its PeerId); a site the
 * device had left is blocked again, as leaving is final. A site the database holds already
 * keeps its record (the device's own is newer than a backup's). If the sites cannot be
 * written, the keys are undone.
 */
export async function restoreMemberDevice (dataDir: string, identity: DeviceIdentity): Promise<void> {
  const undo = await platform.restoreIdentity(dataDir, identity)
  try {
    // one synced batch below: the database need not fsync anything else
    const db = await platform.openDatabase(dataDir, { fsync: false })
    try {
      const store = await MemberStore.open(db)
      const writes: Write[] = []
      for (const site of identity.sites) {
        if (await store.site(site.peerId) !== undefined) continue
        // addresses as join() keeps them: parseable, in scope, bounded
        writes.push(...store.putSite({ ...site, addrs: keepableAddrs(site.addrs, DEFAULTS.addressScope) }))
        if (site.left !== undefined) writes.push(...store.block(site.peerId, { at: site.left, reason: LEFT_SITE }))
      }
      await store.write(writes, { sync: true })
    } finally {
      await db.close()
    }
  } catch (err) {
    await undo()
    throw err
  }
}
