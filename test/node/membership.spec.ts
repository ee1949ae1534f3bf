import assert from 'node:assert/strict'
import { readdir, stat } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { toString as uint8ArrayToString, fromString as uint8ArrayFromString } from 'uint8arrays'
import { Ed25519Signer, peerIdFromString as peerIdBytes } from '../../src/crypto/ed25519.js'
import { createKeyEpoch } from '../../src/crypto/epoch.js'
import { createInviteToken } from '../../src/crypto/invite.js'
import { encodeContent, sealEnvelopeMessage } from '../../src/crypto/envelope.js'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { loadEncryptionKey, loadIdentity } from '../../src/node/identity.js'
import { createTmtpLibp2p } from '../../src/node/libp2p.js'
import { DEFAULTS } from '../../src/node/defaults.js'
import { MAX_FRAME_SIZE, PROTOCOL_DELIVER } from '../../src/protocol/constants.js'
import { ErrorCode, codeFromWire, isTmtpError } from '../../src/protocol/errors.js'
import { Push, Receipt, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { setTimeout as delay } from 'node:timers/promises'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'
import { pushEpoch, receipts, Rogue } from '../support/rogue.js'
import type { MemberNode } from '../../src/node/member-node.js'

function hasCode (code: string) {
  return (err: unknown): boolean => {
    assert.equal((err as { code?: string }).code, code, `expected ${code}, got ${String(err)}`)
    return true
  }
}

/**
 * A node that is not a joined site, speaking the deliver protocol correctly otherwise: it
 * knows the member's X25519 key, signs a valid epoch and seals a valid envelope.
 */
async function rogueDeliver (net: TestNet, member: MemberNode, memberDir: string): Promise<ErrorCode> {
  const signer = Ed25519Signer.generate()
  const libp2p = await createTmtpLibp2p({ signer, listen: ['/ip4/127.0.0.1/tcp/0'], connections: DEFAULTS.site })
  await libp2p.start()
  try {
    const device = peerIdBytes(member.peerId)
    const x25519 = await loadEncryptionKey(memberDir)
    const now = Date.now()
    const epoch = await createKeyEpoch({ site: signer, device, deviceX25519: x25519.publicKey, epoch: 1, created: now, expires: now + 60_000 })
    const envelope = sealEnvelopeMessage(epoch.keys.siteToDevice, {
      version: 1, id: new Uint8Array(16).fill(7), sender: signer.peerId as Uint8Array<ArrayBuffer>, recipient: device as Uint8Array<ArrayBuffer>, epoch: 1, seq: 1, created: now, expires: 0
    }, encodeContent({ subject: 'spam', body: 'buy now' }))
    await libp2p.peerStore.merge(peerIdFromString(member.peerId), { multiaddrs: member.libp2p.getMultiaddrs() })
    const stream = await libp2p.dialProtocol(peerIdFromString(member.peerId), PROTOCOL_DELIVER)
    const framed = new FramedStream(stream, MAX_FRAME_SIZE)
    await framed.write([Push.encode({ epoch: SignedPayload.decode(epoch.signed) }), Push.encode({ envelope })])
    const receipt = Receipt.decode(await framed.readOne())
    assert.ok(receipt.error !== undefined, 'the member answers with a stream error')
    return codeFromWire(receipt.error.code)
  } finally {
    await libp2p.stop()
  }
}

describe('node: membership', () => {
  let net: TestNet

  beforeEach(async () => { net = await TestNet.create() })
  afterEach(async () => { await net.cleanup() })

  it('creates owner-only key files once and keeps the identity across restarts', async () => {
    const site = await net.site('s')
    const id = site.peerId
    await net.stop(site)
    const again = await net.site('s')
    assert.equal(again.peerId, id)
    const member = await net.member('m')
    for (const dir of [net.path('s'), net.path('m')]) {
      assert.equal((await stat(dir)).mode & 0o077, 0, `${dir} is owner-only`)
      for (const file of (await readdir(dir)).filter(f => f.endsWith('.key'))) {
        assert.equal((await stat(`${dir}/${file}`)).mode & 0o777, 0o600, `${file} is 0600`)
      }
    }
    assert.deepEqual((await readdir(net.path('m'))).filter(f => f.endsWith('.key')).sort(), ['encryption.key', 'identity.key'])
    assert.notEqual(member.peerId, id)
  })

  it('refuses a reused invite, an expired invite, a forged invite, and records nothing', async () => {
    const site = await net.site()
    const first = await net.member('first')
    const second = await net.member('second')
    const invite = await site.createInvite({ ref: 'u1' })
    await first.join(invite.token)
    await assert.rejects(second.join(invite.token), hasCode(ErrorCode.INVITE_USED))

    const shortLived = await site.createInvite({ ref: 'u2', expiresInMs: 50 })
    await delay(100)
    // the member checks expiry itself before asking the site
    await assert.rejects(second.join(shortLived.token), hasCode(ErrorCode.EXPIRED))

    // an invite naming the site, with a fresh secret, signed by another key
    const forger = Ed25519Signer.generate()
    const body = uint8ArrayFromString(invite.token.slice('tmtp1:'.length), 'base64url')
    const genuine = SignedPayload.decode(body)
    const forgedSignature = SignedPayload.encode({ payload: genuine.payload, signature: forger.sign(genuine.payload) as Uint8Array<ArrayBuffer> })
    await assert.rejects(second.join('tmtp1:' + uint8ArrayToString(forgedSignature, 'base64url')), hasCode(ErrorCode.BAD_SIGNATURE))

    // a well-signed invite of a "site" that runs no node, pointing at this site's address:
    // the Noise handshake proves the peer there is someone else
    const stranger = createInviteToken(forger, { addrs: site.libp2p.getMultiaddrs().map(a => a.bytes), secret: new Uint8Array(32).fill(3), expires: Date.now() + 60_000 })
    await assert.rejects(second.join(stranger), hasCode('UNREACHABLE'))

    // signed by the site itself, but with a secret it never issued (or has forgotten)
    const siteKey = await loadIdentity(net.path('site'))
    const unissued = createInviteToken(siteKey, { addrs: site.libp2p.getMultiaddrs().map(a => a.bytes), secret: new Uint8Array(32).fill(9), expires: Date.now() + 60_000 })
    await assert.rejects(second.join(unissued), hasCode(ErrorCode.INVITE_UNKNOWN))

    // an altered token: one character changed
    const altered = invite.token.slice(0, 20) + (invite.token[20] === 'A' ? 'B' : 'A') + invite.token.slice(21)
    await assert.rejects(second.join(altered), (err: unknown) => isTmtpError(err))

    const members = await site.members()
    assert.equal(members.length, 1)
    assert.deepEqual(members[0].devices.map(d => d.peerId), [first.peerId])
    assert.deepEqual(await second.sites(), [])
  })

  it('answers a repeated join of the same device with the same member', async () => {
    const site = await net.site()
    const member = await net.member()
    const invite = await site.createInvite()
    const a = await member.join(invite.token)
    const b = await member.join(invite.token)
    assert.equal(a.member, b.member)
    assert.equal((await site.members()).length, 1)
  })

  it('a site that answers OK without a member id is not joined (BAD_FRAME): its deliveries are refused', async () => {
    const member = await net.member()
    const site = await Rogue.start()
    try {
      await site.actAsSite('')
      await assert.rejects(member.join(site.invite()), hasCode(ErrorCode.BAD_FRAME))
      assert.deepEqual(await member.sites(), [])
      const epoch = await site.epoch(member.peerId, (await loadEncryptionKey(net.path('member'))).publicKey)
      assert.equal(receipts(await site.exchange(member, PROTOCOL_DELIVER, pushEpoch(epoch.signed))).error, ErrorCode.NOT_MEMBER)
    } finally {
      await site.stop()
    }
  })

  it('refuses deliveries from a node that is not a joined site, before storing anything', async () => {
    const site = await net.site()
    const member = await net.member()
    await member.join((await site.createInvite()).token)
    assert.equal(await rogueDeliver(net, member, net.path('member')), ErrorCode.NOT_MEMBER)
    assert.deepEqual(await member.inbox(), [])
  })

  it('leaving tells the site, which drops the device and its queue, and blocks the site', async () => {
    const site = await net.site()
    const member = await net.member()
    const joined = await member.join((await site.createInvite({ ref: 'leaver' })).token)
    const sent = await site.send({ to: ['leaver'], subject: 'before', body: '' })
    await waitFor('the first message', async () => (await member.inbox()).length === 1)
    const left = await member.leave(joined.site)
    assert.deepEqual(left, { site: joined.site, notified: true, code: 'OK' })
    assert.deepEqual((await site.member('leaver')).devices, [])
    await assert.rejects(site.send({ to: ['leaver'], subject: 'after', body: '' }), hasCode('NO_DEVICES'))
    assert.ok((await member.blocked()).some(b => b.peer === site.peerId))
    const record = (await member.sites()).find(s => s.peerId === site.peerId)
    assert.ok(record?.left !== undefined)
    // the site may connect, and its deliver stream is answered BLOCKED before anything is read (spec 15.2)
    const stream = await site.libp2p.dialProtocol(peerIdFromString(member.peerId), PROTOCOL_DELIVER)
    const receipt = Receipt.decode(await new FramedStream(stream, MAX_FRAME_SIZE).readOne())
    assert.equal(codeFromWire(receipt.error?.code ?? 0), ErrorCode.BLOCKED)
    assert.deepEqual((await member.inbox()).map(m => m.id), [sent.id])
  })

  it('refuses a blocked site: its messages stay queued and never reach the inbox', async () => {
    const site = await net.site()
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'blocker' })).token)
    await member.block(site.peerId)
    const sent = await site.send({ to: ['blocker'], subject: 'blocked', body: '' })
    await delay(500)
    assert.equal((await site.message(sent.id)).devices[0].state, 'queued')
    assert.deepEqual(await member.inbox(), [])
    await member.unblock(site.peerId)
    await waitFor('delivery once unblocked', async () => (await site.message(sent.id)).devices[0].state === 'delivered')
  })

  it('removes a member on the site: queued messages are dropped', async () => {
    const site = await net.site()
    const member = await net.member()
    await member.join((await site.createInvite({ ref: 'gone' })).token)
    await net.stop(member)
    const sent = await site.send({ to: ['gone'], subject: 'x', body: '' })
    const removed = await site.removeMember('gone')
    assert.equal(removed.ref, 'gone')
    assert.equal((await site.message(sent.id)).devices[0].state, 'dropped')
    await assert.rejects(site.member('gone'), hasCode('UNKNOWN_MEMBER'))
    await assert.rejects(site.send({ to: ['gone'], subject: 'y', body: '' }), hasCode('UNKNOWN_MEMBER'))
    assert.equal((await site.stats()).queued, 0)
  })

  it('removing a member ends its devices\' connections at once, refuses their replies, and revokes invites not yet redeemed for its reference', async () => {
    const site = await net.site()
    const member = await net.member('phone')
    await member.join((await site.createInvite({ ref: 'ann' })).token)
    const pending = (await site.createInvite({ ref: 'ann' })).token
    const sent = await site.send({ to: ['ann'], subject: 'hello', body: '' })
    await waitFor('the message', async () => (await member.inbox()).length === 1)
    const device = peerIdFromString(member.peerId)
    assert.ok(site.libp2p.getConnections(device).length > 0, 'the device is connected before the removal')

    await site.removeMember('ann')
    await waitFor('the device disconnected', async () => site.libp2p.getConnections(device).length === 0, 5_000)
    const reply = await member.reply(sent.id, { body: 'too late' })
    await delay(1_000)
    assert.deepEqual(await site.replies(), [], 'a removed member\'s reply is not stored')
    assert.equal((await member.post(reply.id)).state, 'queued', 'the device keeps the reply it could not deliver')

    const laptop = await net.member('laptop')
    await assert.rejects(laptop.join(pending), hasCode(ErrorCode.INVITE_UNKNOWN))
    const again = await laptop.join((await site.createInvite({ ref: 'ann' })).token)
    assert.notEqual(again.member, '', 'an invite issued after the removal works')
  })

  it('a member over its reply quota is told RATE_LIMITED, keeps its replies and sends them once the quota allows', async () => {
    let clock = Date.now()
    // the test's devices retry every 0.5 s at most (a real one backs off to minutes): not banned for it here
    const site = await net.site('site', { repliesPerMinute: 3, refusalsPerMinute: 1_000_000, now: () => clock })
    const member = await net.member('phone')
    await member.join((await site.createInvite({ ref: 'ann' })).token)
    const sent = await site.send({ to: ['ann'], subject: 'hello', body: '' })
    await waitFor('the message', async () => (await member.inbox()).length === 1)
    const posts = []
    for (let i = 0; i < 5; i++) posts.push(await member.reply(sent.id, { body: `reply ${i}` }))
    await waitFor('three stored', async () => (await site.replies()).length === 3, 10_000)
    await delay(500)
    assert.equal((await site.replies()).length, 3, 'no more than the quota')
    const states = await Promise.all(posts.map(async p => (await member.post(p.id)).state))
    assert.deepEqual(states.filter(s => s === 'queued').length, 2, 'the device keeps what the site did not take')
    clock += 61_000
    await waitFor('the rest sent later', async () => (await site.replies()).length === 5, 15_000)
    assert.deepEqual((await site.replies()).map(r => r.body).sort(), [0, 1, 2, 3, 4].map(i => `reply ${i}`))
  })
})
