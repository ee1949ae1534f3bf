import { createInviteToken, inviteSecretHash, openDeviceKey, openInvite, openLeave, peerIdToString, randomBytes, type Ed25519Signer } from '../crypto/index.js'
import { Mutex, NodeError, RateLimiter, toHex } from '../util/index.js'
import { codeToWire, decodeMessage, ErrorCode, INVITE_SECRET_BYTES, JoinRequest, JoinResponse, MAX_NAME_BYTES, MAX_REF_BYTES, requireMaxBytes, TmtpError } from '../protocol/index.js'
import { isMemberId, type DeviceRecord, type InviteRecord, type MemberRecord, type SiteStore, type Write } from '../store/index.js'
import type { SiteOutbox } from '../delivery/index.js'

export interface SiteMembershipOptions {
  store: SiteStore
  outbox: SiteOutbox
  /** Held for every change of membership; the site's groups share it. @default a lock of its own */
  lock?: Mutex
  signer: Ed25519Signer
  siteName: string
  inviteTtlMs: number
  joinsPerMinute: number
  /** Join attempts per network address per minute, all its peers together. */
  joinsPerMinutePerIp: number
  now: () => number
  /** The site's current dialable addresses (binary multiaddrs), put into invites as hints. */
  addrs: () => Uint8Array[]
  /** Devices that just stopped being members (left, removed, moved to another member): the node ends their streams. */
  onDevicesGone?: (peers: string[]) => void
  /** Devices no longer member devices of the site (they left, or their member was removed), once that is stored. */
  onDevicesRemoved?: (peers: string[]) => void
}

export interface InviteRequest {
  ref?: string
  expiresInMs?: number
}

export interface IssuedInvite {
  token: string
  ref: string
  expires: number
}

export interface MemberView {
  id: string
  ref: string
  created: number
  devices: Array<{ peerId: string, name: string, joined: number }>
}

/**
 * Membership at the site (spec: "/tmtp/join/1.0.0", "/tmtp/leave/1.0.0"): invites, joins,
 * leaves and removals. Joins run one at a time so that a one-time invite is redeemed once.
 */
export class SiteMembership {
  private readonly opts: SiteMembershipOptions
  private readonly store: SiteStore
  private readonly lock: Mutex
  private readonly joinLimiter: RateLimiter
  private readonly networkJoinLimiter: RateLimiter

  constructor (opts: SiteMembershipOptions) {
    this.opts = opts
    this.store = opts.store
    this.lock = opts.lock ?? new Mutex()
    this.joinLimiter = new RateLimiter(opts.joinsPerMinute, 60_000)
    this.networkJoinLimiter = new RateLimiter(opts.joinsPerMinutePerIp, 60_000)
  }

  async createInvite (req: InviteRequest = {}): Promise<IssuedInvite> {
    const ref = req.ref ?? ''
    if (typeof ref !== 'string') throw new NodeError('INVALID_ARGUMENT', 'ref must be a string')
    try {
      requireMaxBytes(ref, MAX_REF_BYTES, 'ref')
    } catch {
      throw new NodeError('INVALID_ARGUMENT', `ref must be at most ${MAX_REF_BYTES} bytes`)
    }
    // member ids and references are two namespaces: a name of either shape means one thing
    if (isMemberId(ref)) throw new NodeError('INVALID_ARGUMENT', 'ref must not have the shape of a member id (m and 16 hex digits)')
    const ttl = req.expiresInMs ?? this.opts.inviteTtlMs
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new NodeError('INVALID_ARGUMENT', 'expiry must be a positive number of milliseconds')
    const now = this.opts.now()
    const secret = randomBytes(INVITE_SECRET_BYTES)
    const expires = now + ttl
    const token = createInviteToken(this.opts.signer, {
      addrs: this.opts.addrs(),
      secret,
      expires,
      ref,
      siteName: this.opts.siteName
    })
    const hash = toHex(inviteSecretHash(secret))
    const record: InviteRecord = { hash, ref, created: now, expires }
    await this.store.write(this.store.putInvite(record))
    return { token, ref, expires }
  }

  /**
   * Counts a join stream from `remote`, coming from `network` (its IP address, or IPv6 /64),
   * as an attempt, whatever comes of it, and throws RATE_LIMITED past either limit: before the
   * frame is read (spec 15.1, step 1). PeerIds cost nothing to make; addresses do.
   */
  admitJoin (remote: Uint8Array, network: string): void {
    const now = this.opts.now()
    const byPeer = this.joinLimiter.allow(peerIdToString(remote), now)
    const byNetwork = this.networkJoinLimiter.allow(network, now)
    if (!byPeer) throw new TmtpError(ErrorCode.RATE_LIMITED, 'too many join attempts: wait a minute')
    if (!byNetwork) throw new TmtpError(ErrorCode.RATE_LIMITED, 'too many join attempts from this network: wait a minute')
  }

  /** Handles one JoinRequest frame from `remote` (admitted by admitJoin); returns the JoinResponse frame or throws TmtpError. */
  async join (frame: Uint8Array, remote: Uint8Array, addrs: string[]): Promise<Uint8Array> {
    const peer = peerIdToString(remote)
    const request = decodeMessage(JoinRequest, frame, 'join request')
    requireMaxBytes(request.deviceName, MAX_NAME_BYTES, 'device name')
    const invite = openInvite(request.invite, this.opts.signer.peerId, this.opts.now())
    const deviceKey = openDeviceKey(request.deviceKey, remote)
    const hash = toHex(inviteSecretHash(invite.secret))

    const member = await this.lock.run(async () => {
      const record = await this.store.invite(hash)
      if (record === undefined) throw new TmtpError(ErrorCode.INVITE_UNKNOWN, 'this site did not issue that invite')
      if (record.used === undefined && record.ref !== '' && record.created <= (await this.store.refRemovedAt(record.ref) ?? -Infinity)) {
        throw new TmtpError(ErrorCode.INVITE_UNKNOWN, 'that invite was revoked: its member was removed')
      }
      if (record.used !== undefined) {
        // the same device asking again (its first answer was lost) gets the same answer
        if (record.used.device === peer && await this.store.device(peer) !== undefined) return record.used.member
        throw new TmtpError(ErrorCode.INVITE_USED, 'invite already used')
      }
      const now = this.opts.now()
      const writes: Write[] = []
      let member = invite.ref === '' ? undefined : await this.store.memberByRef(invite.ref)
      const isNewMember = member === undefined
      member ??= { id: newMemberId(), ref: invite.ref, created: now, devices: [] }
      const previous = await this.store.device(peer)
      if (previous !== undefined && previous.member !== member.id) {
        writes.push(...await this.detachDevice(previous))
      }
      if (!member.devices.includes(peer)) member = { ...member, devices: [...member.devices, peer] }
      const device: DeviceRecord = {
        peerId: peer,
        member: member.id,
        x25519: toHex(deviceKey.x25519),
        name: request.deviceName,
        joined: now,
        addrs
      }
      writes.push(...this.store.admitDevice(member, device, { ...record, used: { at: now, device: peer, member: member.id } }, isNewMember))
      await this.store.write(writes)
      this.opts.outbox.forget(peer)
      this.opts.outbox.membersChanged()
      return member.id
    })
    return JoinResponse.encode({ code: codeToWire(ErrorCode.OK), memberId: member, siteName: this.opts.siteName, detail: '' })
  }

  /** Handles one signed Leave frame from `remote`; returns the Result frame or throws TmtpError. */
  async leave (frame: Uint8Array, remote: Uint8Array): Promise<void> {
    openLeave(frame, this.opts.signer.peerId, remote)
    const peer = peerIdToString(remote)
    await this.lock.run(async () => {
      const device = await this.store.device(peer)
      if (device === undefined) throw new TmtpError(ErrorCode.NOT_MEMBER, 'not a member device of this site')
      await this.store.write(await this.detachDevice(device))
      this.opts.outbox.membersChanged()
    })
    this.opts.onDevicesRemoved?.([peer])
    await this.opts.outbox.dropDevice(peer, 'the device left the site')
  }

  /**
   * Removes a member (by id or reference) and all its devices at once: their connections end,
   * their queued messages are dropped, it leaves its groups, and invites not yet redeemed for
   * its reference stop working.
   */
  async removeMember (idOrRef: string): Promise<MemberView> {
    const removed = await this.lock.run(async () => {
      const member = await this.store.memberByName(idOrRef)
      if (member === undefined) throw new NodeError('UNKNOWN_MEMBER', `no member with id or reference ${JSON.stringify(idOrRef)}`)
      const view = await this.view(member)
      await this.store.write([...this.store.removeMember(member, this.opts.now()), ...await this.store.groups.leaveGroups(member.id)])
      this.opts.outbox.membersChanged()
      return view
    })
    this.opts.onDevicesGone?.(removed.devices.map(d => d.peerId))
    this.opts.onDevicesRemoved?.(removed.devices.map(d => d.peerId))
    for (const device of removed.devices) await this.opts.outbox.dropDevice(device.peerId, 'the member was removed')
    return removed
  }

  async members (): Promise<MemberView[]> {
    const out: MemberView[] = []
    for await (const member of this.store.members()) out.push(await this.view(member))
    return out
  }

  async member (idOrRef: string): Promise<MemberView> {
    const member = await this.store.memberByName(idOrRef)
    if (member === undefined) throw new NodeError('UNKNOWN_MEMBER', `no member with id or reference ${JSON.stringify(idOrRef)}`)
    return await this.view(member)
  }

  private async view (member: MemberRecord): Promise<MemberView> {
    const devices = []
    for (const peer of member.devices) {
      const d = await this.store.device(peer)
      if (d !== undefined) devices.push({ peerId: d.peerId, name: d.name, joined: d.joined })
    }
    return { id: member.id, ref: member.ref, created: member.created, devices }
  }

  /** Writes that take a device out of its member (the member record stays, possibly without devices). */
  private async detachDevice (device: DeviceRecord): Promise<Write[]> {
    return this.store.detachDevice(device, await this.store.member(device.member))
  }
}

/** A fresh member id, of MEMBER_ID_PATTERN's shape. */
function newMemberId (): string {
  return 'm' + toHex(randomBytes(8))
}
