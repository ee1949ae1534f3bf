import '../polyfill.js'
import { peerIdFromString as libp2pPeerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Registry } from 'prom-client'
import { Courier, FramedStream, receiveEnvelopes, ReplyQuota, serveBlob, SiteOutbox, siteRepliesSink, type SendRequest, type SendResult, type SiteEvent } from '../delivery/index.js'
import { codeToWire, ErrorCode, JoinResponse, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, PROTOCOL_BLOB, PROTOCOL_DELIVER, PROTOCOL_JOIN, PROTOCOL_LEAVE, PROTOCOL_POST, Result } from '../protocol/index.js'
import { EventJournal, SiteStore, type BroadcastEvent, type GroupView, type MessageStatus, type Reply, type ReplyView, type StateCounts } from '../store/index.js'
import { Mutex, NodeError, unref } from '../util/index.js'
import { keepableAddrs, networkOf, type AddressScope, type LookupEvent } from '../discovery/index.js'
import { dialWithLookup, remoteBytes, serveControl } from './control.js'
import { DEFAULTS } from './defaults.js'
import { resolveLimits, type NodeLimits } from './limits.js'
import type { TypedEventEmitter } from 'main-event'
import { NodeShell } from './node-shell.js'
import { RoleNode, type RoleNodeEvents } from './role-node.js'
import { checkPageSize, MAX_PAGE_SIZE } from './group-rules.js'
import { SiteGroups, type GroupChange, type GroupMembersPage, type GroupPage, type PageRequest } from './site-groups.js'
import { SiteMembership, type InviteRequest, type IssuedInvite, type MemberView } from './site-membership.js'
import { BlobFiles } from './blob-files.js'
import { SiteBlobs, type UploadRequest } from './site-blobs.js'
import { keepNewestConnection } from './newest-connection.js'
import { BlobStore, type BlobView } from '../store/blob-store.js'
import type { TmtpLibp2p } from './libp2p.js'
import type { StorageFailure } from './storage-health.js'
import type { ComponentLogger, Connection, PeerId, Stream } from '@libp2p/interface'

/** Limits (src/node/limits.ts: window, joinsPerMinute, maxInboundStreams, maxQueuePerDevice, refusalsPerMinute, banMs, streamIdleMs) are options too. */
export interface SiteNodeOptions extends Partial<NodeLimits> {
  /** The node's data folder: identity key and LevelDB. */
  dataDir: string
  /** Display name of the site, shown to members. */
  name?: string
  /** libp2p listen multiaddrs. @default ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] (TCP, and WebSockets for members in a browser) */
  listen?: string[]
  /** fsync every group-committed batch (power-loss safe, as acknowledgements state). @default true */
  fsync?: boolean
  retryBaseMs?: number
  retryCapMs?: number
  defaultTtlMs?: number
  maxTtlMs?: number
  inviteTtlMs?: number
  epochAgeMs?: number
  /**
   * Keep a durable journal of delivery and reply events for the backend (the API's webhooks
   * read it): each event is written in the batch of the change it reports, one queue per
   * member, and stays until it is taken out. @default false
   */
  eventJournal?: boolean
  /** DHT bootstrap peers: multiaddrs ending with /p2p/<PeerId>. @default [] */
  bootstrap?: string[]
  /** Where the node and its libp2p log (a prefixed logger tells the nodes of one process apart). @default libp2p's default logger */
  logger?: ComponentLogger
  /** Which addresses of other peers this node stores and dials (src/discovery/address-scope.ts). @default 'all'; 'public' for a site on the Internet */
  addressScope?: AddressScope
  /** Run the TMTP DHT (as a server) to find member devices that moved, and be found. @default true */
  dht?: boolean
  /** Serve DHT queries (a site behind NAT may not). @default true */
  dhtServer?: boolean
  /** A send to more devices than this is a broadcast, fanned out in the background. @default DEFAULTS.directMaxDevices */
  directMaxDevices?: number
  /** Devices a broadcast's fan-out seals per batch. @default DEFAULTS.fanoutBatch */
  fanoutBatch?: number
  /** The clock, for tests of expiry. @default Date.now */
  now?: () => number
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
  states: StateCounts
}

export interface SiteNodeEvents extends RoleNodeEvents {
  delivery: CustomEvent<SiteEvent>
  /** Every copy of a broadcast settled (delivered, expired, rejected, dropped or replaced). */
  broadcast: CustomEvent<BroadcastEvent>
  reply: CustomEvent<Reply>
  session: CustomEvent<SessionEvent>
  /** A device's addresses were looked up in the DHT. */
  lookup: CustomEvent<LookupEvent>
}

/** A running TMTP site node (spec 3, "Roles and state"). */
export interface SiteNode extends TypedEventEmitter<SiteNodeEvents> {
  readonly peerId: string
  readonly libp2p: TmtpLibp2p
  /** libp2p's own metrics (connections, streams, DHT), for the API's /metrics. */
  readonly libp2pMetrics: Registry
  multiaddrs: () => string[]
  createInvite: (req?: InviteRequest) => Promise<IssuedInvite>
  /**
   * Takes a file in for messages to carry (spec 15.6), sealing it once as it arrives: `size`
   * bytes from `body`, at most `maxAttachmentBytes` (ATTACHMENT_TOO_LARGE, before a byte is
   * read), and refused as well (ATTACHMENT_STORE_FULL) if the site's attachments would take more
   * than `maxStoredAttachmentBytes`. A send lists it by its id in `attachments` for
   * `attachmentHoldMs`; the site deletes it once every device it was sent to fetched it (or is
   * no member device any more), or its messages expired.
   */
  uploadAttachment: (req: UploadRequest) => Promise<BlobView>
  /** An upload's name, media type, size, SHA-256 and times (UNKNOWN_ATTACHMENT once deleted). */
  attachment: (id: string) => Promise<BlobView>
  /**
   * Sends to members, groups or all. Resolves once the message is durably accepted: a send to
   * few devices with every copy sealed, a broadcast (more than `directMaxDevices` devices, or
   * `report: 'once'`) with its recipients stored, its copies then sealed in the background.
   */
  send: (req: SendRequest) => Promise<SendResult>
  /**
   * A message's copies by state (`pending`: a broadcast's not sealed yet) and a page of its
   * copies, one per device in the order resolved (`limit` 1 to MAX_PAGE_SIZE, default
   * MAX_PAGE_SIZE; `after` the `next` of the previous page).
   */
  message: (id: string, page?: PageRequest) => Promise<MessageStatus>
  members: () => Promise<MemberView[]>
  member: (idOrRef: string) => Promise<MemberView>
  removeMember: (idOrRef: string) => Promise<MemberView>
  /**
   * Groups of members: the site's own (a send names them in `groups`; only a group's name
   * travels, in each copy of a message sent to it). A group is named by its id or its name
   * (`GROUP_ID_PATTERN` tells them apart); members by id or reference, at most
   * `MAX_GROUP_MEMBERS_PER_REQUEST` per call (TOO_MANY_MEMBERS). A name taken is
   * GROUP_NAME_TAKEN, a bad one INVALID_GROUP_NAME, an unknown group UNKNOWN_GROUP.
   */
  createGroup: (req: { name: string, members?: string[] }) => Promise<GroupView>
  renameGroup: (group: string, name: string) => Promise<GroupView>
  /** Deletes a group (its members stay members of the site); answers it as it was. */
  deleteGroup: (group: string) => Promise<GroupView>
  group: (group: string) => Promise<GroupView>
  /** Groups in the order of their names, a page at a time (`limit` 1 to MAX_PAGE_SIZE, default DEFAULT_PAGE_SIZE). */
  groups: (req?: PageRequest) => Promise<GroupPage>
  /** A group's members in member id order, a page at a time. */
  groupMembers: (group: string, req?: PageRequest) => Promise<GroupMembersPage>
  /** Adds members to a group; those in it already are not counted in `changed`. An unknown member changes nothing (UNKNOWN_MEMBER). */
  addGroupMembers: (group: string, members: string[]) => Promise<GroupChange>
  /** Removes members from a group; messages already accepted for them stay theirs. */
  removeGroupMembers: (group: string, members: string[]) => Promise<GroupChange>
  /** The groups a member is in, by name. */
  memberGroups: (idOrRef: string) => Promise<GroupView[]>
  /** Replies in the order received; `after` is the `cursor` of the last reply of the previous page. */
  replies: (opts?: { after?: string, limit?: number }) => Promise<ReplyView[]>
  /**
   * Deletes the replies received up to and including the one `through` names (a cursor): the
   * backend collected them. Frees their members' reply quota. Replies never collected are
   * deleted after `replyRetentionMs`.
   */
  deleteReplies: (opts: { through: string }) => Promise<{ deleted: number }>
  /** Device copies queued and by state (kept as counters: no scan), and active delivery sessions. */
  stats: () => Promise<SiteStats>
  /** The first write that failed, if one did (see the `storage` event). */
  storageFailure: () => StorageFailure | undefined
  /** The journal of events for the backend, when the node keeps one (`eventJournal`); the `delivery` and `reply` events say when it grew. */
  readonly journal?: BackendJournal
  stop: () => Promise<void>
}

/** The site's journal of events for its backend, as its reader (the webhooks) sees it. */
export type BackendJournal = Pick<EventJournal, 'next' | 'remove' | 'size'>

class TmtpSiteNode extends RoleNode<SiteNodeEvents> implements SiteNode {
  readonly libp2pMetrics: Registry
  readonly journal?: EventJournal
  private readonly store: SiteStore
  private readonly outbox: SiteOutbox
  private readonly membership: SiteMembership
  private readonly siteGroups: SiteGroups
  private readonly blobs: SiteBlobs
  private readonly courier: Courier
  private readonly replyQuota: ReplyQuota
  private readonly options: SiteNodeOptions
  private readonly addressScope: AddressScope
  private sweepTimer?: NodeJS.Timeout
  /** Addresses being stored after an identify: stop() lets them finish before the database closes. */
  private readonly addressWrites = new Set<Promise<void>>()

  constructor (shell: NodeShell, store: SiteStore, blobFiles: BlobFiles, libp2pMetrics: Registry, limits: NodeLimits, options: SiteNodeOptions) {
    super(shell, limits)
    const now = options.now ?? Date.now
    this.blobs = new SiteBlobs({
      store: new BlobStore(shell.db),
      files: blobFiles,
      limits,
      maxTtlMs: options.maxTtlMs ?? DEFAULTS.maxTtlMs,
      recipients: id => store.messageDevices(id),
      areDevices: async peers => await store.areDevices(peers),
      now,
      log: this.log
    })
    this.libp2pMetrics = libp2pMetrics
    this.store = store
    this.options = options
    this.addressScope = options.addressScope ?? DEFAULTS.addressScope
    const journal = this.journal = options.eventJournal === true ? new EventJournal(shell.db) : undefined
    this.outbox = new SiteOutbox({
      store,
      signer: shell.signer,
      epochAgeMs: options.epochAgeMs ?? DEFAULTS.epochAgeMs,
      defaultTtlMs: options.defaultTtlMs ?? DEFAULTS.ttlMs,
      maxTtlMs: options.maxTtlMs ?? DEFAULTS.maxTtlMs,
      maxQueuePerDevice: limits.maxQueuePerDevice,
      // without fsync a crash may have rolled the sequence counters back: fresh keys for everyone
      sealSince: !(options.fsync ?? DEFAULTS.fsync) && store.uncleanStart ? now() : 0,
      now,
      directMaxDevices: options.directMaxDevices ?? DEFAULTS.directMaxDevices,
      fanoutBatch: options.fanoutBatch ?? DEFAULTS.fanoutBatch,
      deviceCacheSize: DEFAULTS.deviceCacheSize,
      onEvent: event => { this.dispatch('delivery', event) },
      onBroadcast: event => { this.dispatch('broadcast', event) },
      journal: journal === undefined ? undefined : events => journal.append(events),
      log: this.log
    })
    // one lock for members and groups: a member that leaves the site leaves its groups in the same write
    const membershipLock = new Mutex()
    this.siteGroups = new SiteGroups({ store, lock: membershipLock, now })
    this.membership = new SiteMembership({
      store,
      outbox: this.outbox,
      lock: membershipLock,
      signer: shell.signer,
      siteName: options.name ?? DEFAULTS.siteName,
      inviteTtlMs: options.inviteTtlMs ?? DEFAULTS.inviteTtlMs,
      joinsPerMinute: limits.joinsPerMinute,
      joinsPerMinutePerIp: limits.joinsPerMinutePerIp,
      now,
      addrs: () => this.libp2p.getMultiaddrs().map(ma => ma.decapsulateCode(421).bytes),
      onDevicesGone: peers => { for (const peer of peers) this.hangUp(peer) },
      // attachments stop waiting for them (a crash before this: the sweep at start recounts)
      onDevicesRemoved: peers => { if (peers.length > 0) this.blobs.devicesGone().catch(err => { this.log.error('cannot recount attachments\' recipients: %e', err) }) }
    })
    this.replyQuota = new ReplyQuota(limits, store, now)
    this.courier = new Courier({
      outbox: this.outbox,
      open: async device => await this.openDelivery(device),
      self: shell.signer.peerId,
      window: limits.window,
      idleTimeoutMs: limits.streamIdleMs,
      inactivityTimeoutMs: limits.streamIdleMs * 2,
      backoff: { baseMs: options.retryBaseMs ?? DEFAULTS.retryBaseMs, capMs: options.retryCapMs ?? DEFAULTS.retryCapMs },
      log: this.log,
      onSession: ({ peer, ok, code }) => { this.dispatch('session', { device: peer, ok, code }) }
    })
  }

  async start (): Promise<void> {
    const { maxInboundStreams, streamIdleMs } = this.limits
    const refused = (connection: Connection) => (code: ErrorCode) => { this.shell.guard.refused(connection.remotePeer.toString(), code) }
    await this.libp2p.handle(PROTOCOL_JOIN, async (stream, connection) => {
      const addrs = keepableAddrs([connection.remoteAddr], this.addressScope)
      await serveControl(stream, async frame => await this.membership.join(frame, remoteBytes(connection), addrs),
        err => JoinResponse.encode({ code: codeToWire(err.code), memberId: '', siteName: '', detail: err.message }),
        { log: this.log, admit: () => { this.membership.admitJoin(remoteBytes(connection), networkOf(connection.remoteAddr)) }, onRefused: refused(connection) })
      // the remote address is the device's outbound port, which a restarted site cannot dial;
      // identify may have told its listen addresses before the device record existed
      await this.rememberKnownAddrs(connection.remotePeer)
    }, { maxInboundStreams })
    await this.libp2p.handle(PROTOCOL_LEAVE, async (stream, connection) => {
      let left = false
      await serveControl(stream, async frame => {
        await this.membership.leave(frame, remoteBytes(connection))
        left = true
        return Result.encode({ code: codeToWire(ErrorCode.OK), detail: '' })
      }, err => Result.encode({ code: codeToWire(err.code), detail: err.message }), { log: this.log, onRefused: refused(connection) })
      // once it has its answer, a device that left has no stream to this site left open
      if (left) this.hangUp(connection.remotePeer.toString())
    }, { maxInboundStreams })
    await this.libp2p.handle(PROTOCOL_POST, async (stream, connection) => {
      const sink = siteRepliesSink({
        store: this.store,
        self: this.shell.signer.peerId,
        now: Date.now,
        onReply: reply => { this.dispatch('reply', reply) },
        journal: this.journal === undefined ? undefined : events => (this.journal as EventJournal).append(events),
        quota: this.replyQuota
      })
      stream.inactivityTimeout = streamIdleMs
      await receiveEnvelopes(new FramedStream(stream, MAX_FRAME_SIZE), sink, { self: this.shell.signer, remote: remoteBytes(connection), log: this.log, ackDelayMs: this.limits.ackDelayMs, onRefused: refused(connection) })
    }, { maxInboundStreams })

    // broadcasts' counts before any copy settles (a device may connect and acknowledge at once)
    await this.outbox.loadBroadcasts()
    await this.libp2p.handle(PROTOCOL_BLOB, async (stream, connection) => {
      stream.inactivityTimeout = streamIdleMs
      const source = this.blobs.source(async device => await this.store.device(device) !== undefined)
      await serveBlob(new FramedStream(stream, MAX_CONTROL_FRAME_SIZE), source, { remote: remoteBytes(connection), log: this.log, onRefused: refused(connection) })
    }, { maxInboundStreams })

    // a member device that connects gets its queued messages at once (spec section 15.2), on
    // every new connection: one that replaces a dead one does not make a new peer:connect
    keepNewestConnection(this.libp2p, connection => { this.courier.wake(connection.remotePeer.toString()) })
    this.libp2p.addEventListener('peer:identify', event => {
      const { peerId, listenAddrs } = event.detail
      const write: Promise<void> = this.rememberAddrs(peerId.toString(), listenAddrs.map(a => a.toString()))
        .catch(err => { this.log.error('cannot store addresses: %e', err) })
        .finally(() => this.addressWrites.delete(write))
      this.addressWrites.add(write)
    })
    await this.shell.start({ bootstrap: this.options.bootstrap ?? [], publish: true, onLookup: event => { this.dispatch('lookup', event) } })

    await this.outbox.sweepExpired()
    await this.blobs.sweep(true)
    await this.outbox.resumeFanouts()
    for await (const device of this.store.devicesWithOutbox()) this.courier.wake(device)
    this.sweepTimer = setInterval(() => {
      this.outbox.sweepExpired().catch(err => { this.log.error('expiry sweep failed: %e', err) })
      // replies the backend never collected go after their retention time
      this.store.deleteReplies({ before: Date.now() - this.limits.replyRetentionMs }).catch(err => { this.log.error('reply retention sweep failed: %e', err) })
      // attachments every device fetched, or whose messages expired
      this.blobs.sweep().catch(err => { this.log.error('attachment sweep failed: %e', err) })
    }, DEFAULTS.expirySweepMs)
    unref(this.sweepTimer)
  }

  /** Ends every connection (and so every stream) to a device that is no longer a member. */
  private hangUp (device: string): void {
    this.libp2p.hangUp(libp2pPeerIdFromString(device)).catch(err => { this.log('hang-up of %s failed: %e', device, err) })
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
  private async rememberAddrs (peer: string, announced: string[]): Promise<void> {
    // a device chooses what it announces: only addresses this site may dial are kept (spec 16.8)
    const addrs = keepableAddrs(announced, this.addressScope)
    const device = await this.store.device(peer)
    if (device === undefined || addrs.length === 0) return
    const same = addrs.length === device.addrs.length && addrs.every(a => device.addrs.includes(a))
    if (!same) await this.store.write(this.store.setDeviceAddrs(device, addrs))
  }

  /** The courier's dialler: a deliver stream to a member device, at its stored addresses or found in the DHT. */
  private async openDelivery (device: string): Promise<Stream | undefined> {
    const record = await this.store.device(device)
    if (record === undefined) {
      await this.outbox.dropDevice(device, 'the device is no longer a member')
      return undefined
    }
    const peer = libp2pPeerIdFromString(device)
    const addrs = keepableAddrs(record.addrs, this.addressScope)
    if (addrs.length > 0) await this.libp2p.peerStore.merge(peer, { multiaddrs: addrs.map(a => multiaddr(a)) })
    return await dialWithLookup(this.libp2p, this.shell.discovery, peer, PROTOCOL_DELIVER)
  }

  createInvite = async (req?: InviteRequest): Promise<IssuedInvite> => await this.membership.createInvite(req)
  send = async (req: SendRequest): Promise<SendResult> => await this.blobs.send(req, async resolved => await this.outbox.send(resolved))
  uploadAttachment = async (req: UploadRequest): Promise<BlobView> => await this.blobs.upload(req)
  attachment = async (id: string): Promise<BlobView> => await this.blobs.attachment(id)
  members = async (): Promise<MemberView[]> => await this.membership.members()
  member = async (idOrRef: string): Promise<MemberView> => await this.membership.member(idOrRef)
  removeMember = async (idOrRef: string): Promise<MemberView> => await this.membership.removeMember(idOrRef)
  createGroup = async (req: { name: string, members?: string[] }): Promise<GroupView> => await this.siteGroups.create(req)
  renameGroup = async (group: string, name: string): Promise<GroupView> => await this.siteGroups.rename(group, name)
  deleteGroup = async (group: string): Promise<GroupView> => await this.siteGroups.delete(group)
  group = async (group: string): Promise<GroupView> => await this.siteGroups.group(group)
  groups = async (req?: PageRequest): Promise<GroupPage> => await this.siteGroups.groups(req)
  groupMembers = async (group: string, req?: PageRequest): Promise<GroupMembersPage> => await this.siteGroups.members(group, req)
  addGroupMembers = async (group: string, members: string[]): Promise<GroupChange> => await this.siteGroups.add(group, members)
  removeGroupMembers = async (group: string, members: string[]): Promise<GroupChange> => await this.siteGroups.remove(group, members)
  memberGroups = async (idOrRef: string): Promise<GroupView[]> => await this.siteGroups.memberGroups(idOrRef)

  async message (id: string, page: PageRequest = {}): Promise<MessageStatus> {
    const limit = page.limit === undefined ? MAX_PAGE_SIZE : checkPageSize(page.limit)
    if (page.after !== undefined && typeof page.after !== 'string') throw new NodeError('INVALID_ARGUMENT', 'after must be a cursor of the message\'s devices')
    const status = typeof id === 'string' ? await this.store.messageStatus(id, { after: page.after, limit }) : undefined
    if (status === undefined) throw new NodeError('UNKNOWN_MESSAGE', `no message ${JSON.stringify(id)}`)
    return status
  }

  async replies (opts: { after?: string, limit?: number } = {}): Promise<ReplyView[]> {
    return await this.store.replies({ after: opts.after, limit: opts.limit ?? 100 })
  }

  async deleteReplies (opts: { through: string }): Promise<{ deleted: number }> {
    if (typeof opts?.through !== 'string') throw new NodeError('INVALID_ARGUMENT', 'through must be a replies cursor')
    return { deleted: await this.store.deleteReplies({ through: opts.through }) }
  }

  async stats (): Promise<SiteStats> {
    const states = await this.store.counts()
    return { queued: states.queued, activeDeliveries: this.courier.active, states }
  }

  async stop (): Promise<void> {
    clearInterval(this.sweepTimer)
    this.blobs.stop()
    await this.shell.stop(Promise.all([this.courier.stop(), this.outbox.stop()]).then(async () => { await Promise.allSettled([...this.addressWrites]) }))
  }
}

/** Creates and starts a site node on its data folder (creating the identity on first start). */
export async function createSiteNode (options: SiteNodeOptions): Promise<SiteNode> {
  const limits = resolveLimits(options)
  const metrics = new Registry()
  const shell = await NodeShell.open({
    dataDir: options.dataDir,
    fsync: options.fsync ?? DEFAULTS.fsync,
    listen: options.listen ?? [...DEFAULTS.siteListen],
    connections: DEFAULTS.site,
    dht: options.dht === false ? undefined : { role: 'site', server: options.dhtServer ?? true },
    limits,
    metrics: prometheusMetrics({ registry: metrics }),
    logger: options.logger,
    addressScope: options.addressScope ?? DEFAULTS.addressScope,
    maxConnectionsPerIp: limits.maxConnectionsPerIp,
    component: 'tmtp:site'
  })
  try {
    const node = new TmtpSiteNode(shell, await SiteStore.open(shell.db), await BlobFiles.open(options.dataDir, limits.maxStoredAttachmentBytes), metrics, limits, options)
    await node.start()
    return node
  } catch (err) {
    await shell.abort()
    throw err
  }
}
