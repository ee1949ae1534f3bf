import assert from 'node:assert/strict'
import { logger } from '@libp2p/logger'
import { signDeviceKey } from '../../src/crypto/device-key.js'
import { Ed25519Signer, peerIdToString } from '../../src/crypto/ed25519.js'
import { parseInviteToken } from '../../src/crypto/invite.js'
import { signLeave } from '../../src/crypto/leave.js'
import { generateX25519 } from '../../src/crypto/x25519.js'
import { SiteOutbox } from '../../src/delivery/site-outbox.js'
import { SiteMembership } from '../../src/node/site-membership.js'
import { ErrorCode, codeFromWire, isTmtpError } from '../../src/protocol/errors.js'
import { JoinRequest, JoinResponse } from '../../src/protocol/pb/tmtp.js'
import { openTempSiteStore } from '../support/site-store.js'

describe('node/site-membership', () => {
  const site = Ed25519Signer.generate()
  let handle: Awaited<ReturnType<typeof openTempSiteStore>>
  let membership: SiteMembership
  let outbox: SiteOutbox
  const now = (): number => 1_700_000_000_000

  beforeEach(async () => {
    handle = await openTempSiteStore()
    outbox = new SiteOutbox({ store: handle.store, signer: site, epochAgeMs: 3600_000, defaultTtlMs: 3600_000, maxTtlMs: 3600_000, maxQueuePerDevice: 10, directMaxDevices: 100, fanoutBatch: 256, deviceCacheSize: 1000, now, onEvent: () => {}, onBroadcast: () => {}, log: logger('tmtp:test') })
    membership = new SiteMembership({ store: handle.store, outbox, signer: site, siteName: 'Club', inviteTtlMs: 3600_000, joinsPerMinute: 5, joinsPerMinutePerIp: 8, now, addrs: () => [] })
  })
  afterEach(async () => { await handle.close() })

  /** A device redeeming `token`: the site's answer, and the device's PeerId. */
  async function join (token: string, device = Ed25519Signer.generate()): Promise<{ code: ErrorCode, memberId: string, peer: string }> {
    const { signed } = parseInviteToken(token, now())
    const frame = JoinRequest.encode({ invite: signed as Uint8Array<ArrayBuffer>, deviceKey: signDeviceKey(device, generateX25519().publicKey, now()) as Uint8Array<ArrayBuffer>, deviceName: 'phone' })
    try {
      const answer = JoinResponse.decode(await membership.join(frame, device.peerId, ['/ip4/127.0.0.1/tcp/4001']))
      return { code: codeFromWire(answer.code), memberId: answer.memberId, peer: peerIdToString(device.peerId) }
    } catch (err) {
      if (!isTmtpError(err)) throw err
      return { code: err.code, memberId: '', peer: peerIdToString(device.peerId) }
    }
  }

  it('joins two devices under one reference as one member, once per invite, and lists them', async () => {
    const first = await join((await membership.createInvite({ ref: 'ann' })).token)
    const second = await join((await membership.createInvite({ ref: 'ann' })).token)
    assert.equal(first.code, ErrorCode.OK)
    assert.equal(second.memberId, first.memberId)
    const view = await membership.member('ann')
    assert.deepEqual(view.devices.map(d => d.peerId), [first.peer, second.peer])
    assert.deepEqual(await membership.member(first.memberId), view)
    assert.equal((await handle.store.device(first.peer))?.addrs[0], '/ip4/127.0.0.1/tcp/4001')

    const token = (await membership.createInvite({ ref: 'bob' })).token
    assert.equal((await join(token)).code, ErrorCode.OK)
    assert.equal((await join(token)).code, ErrorCode.INVITE_USED, 'a second device cannot redeem the same invite')
    assert.deepEqual((await membership.members()).map(m => m.ref).sort(), ['ann', 'bob'])
  })

  it('a leave detaches the device and drops its queue; a removal deletes the member, its reference and devices', async () => {
    const phone = Ed25519Signer.generate()
    const a = await join((await membership.createInvite({ ref: 'ann' })).token, phone)
    const b = await join((await membership.createInvite({ ref: 'ann' })).token)
    await outbox.send({ to: ['ann'], subject: 's', body: 'b' })
    assert.equal((await handle.store.counts()).queued, 2)

    await membership.leave(signLeave(phone, site.peerId, now()), phone.peerId)
    assert.equal(await handle.store.device(a.peer), undefined)
    assert.deepEqual((await membership.member('ann')).devices.map(d => d.peerId), [b.peer])
    assert.deepEqual(await handle.store.counts(), { queued: 1, delivered: 0, expired: 0, rejected: 0, dropped: 1, replaced: 0 })

    const removed = await membership.removeMember('ann')
    assert.equal(removed.id, b.memberId)
    await assert.rejects(membership.member('ann'), { code: 'UNKNOWN_MEMBER' })
    assert.equal(await handle.store.memberByRef('ann'), undefined)
    assert.equal(await handle.store.device(b.peer), undefined)
    assert.deepEqual(await handle.store.counts(), { queued: 0, delivered: 0, expired: 0, rejected: 0, dropped: 2, replaced: 0 })
  })

  it('counts join attempts per peer and per network, and refuses past either limit (RATE_LIMITED)', () => {
    const peer = Ed25519Signer.generate().peerId
    for (let i = 0; i < 5; i++) membership.admitJoin(peer, '192.0.2.1')
    assert.throws(() => { membership.admitJoin(peer, '192.0.2.1') }, (err: unknown) => isTmtpError(err, ErrorCode.RATE_LIMITED))
    membership.admitJoin(Ed25519Signer.generate().peerId, '192.0.2.1')
    // fresh PeerIds from one network: its limit holds (8 a minute, 7 counted so far)
    membership.admitJoin(Ed25519Signer.generate().peerId, '192.0.2.1')
    assert.throws(() => { membership.admitJoin(Ed25519Signer.generate().peerId, '192.0.2.1') }, (err: unknown) => isTmtpError(err, ErrorCode.RATE_LIMITED))
    membership.admitJoin(Ed25519Signer.generate().peerId, '198.51.100.7')
  })

  it('keeps member ids and user references apart: a reference may not look like a member id, and each name means one member', async () => {
    const ann = await join((await membership.createInvite({ ref: 'ann' })).token)
    await assert.rejects(membership.createInvite({ ref: ann.memberId }), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(membership.createInvite({ ref: 'm0123456789abcdef' }), { code: 'INVALID_ARGUMENT' })
    // a reference with an id-like prefix but another shape is a reference
    const bob = await join((await membership.createInvite({ ref: `${ann.memberId}x` })).token)
    assert.equal((await membership.member(`${ann.memberId}x`)).id, bob.memberId)
    assert.equal((await membership.member(ann.memberId)).ref, 'ann')
    const sent = await outbox.send({ to: [`${ann.memberId}x`], subject: 's', body: 'b' })
    assert.deepEqual(sent.recipients.map(r => r.member), [bob.memberId])
  })
})
