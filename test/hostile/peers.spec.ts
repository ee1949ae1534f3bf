import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { Ed25519Signer, peerIdFromString as peerIdBytes } from '../../src/crypto/ed25519.js'
import { createInviteToken } from '../../src/crypto/invite.js'
import { signLeave } from '../../src/crypto/leave.js'
import { signMessage } from '../../src/crypto/signing.js'
import { generateX25519 } from '../../src/crypto/x25519.js'
import { join } from 'node:path'
import { DEFAULTS } from '../../src/node/defaults.js'
import { DATABASE_DIR } from '../../src/node/identity.js'
import { Database } from '../../src/store/database.js'
import { SiteStore } from '../../src/store/site-store.js'
import { loadEncryptionKey, loadIdentity } from '../../src/node/identity.js'
import { MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, PROTOCOL_DELIVER, PROTOCOL_JOIN, PROTOCOL_LEAVE, PROTOCOL_POST, SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { encodeFrame } from '../../src/protocol/framing.js'
import { Invite, Leave, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'
import { Prng, Rogue, envelope, joinCode, pushEnvelope, pushEpoch, receipts, resultCode, type Answer } from '../support/rogue.js'
import type { MemberNode, MemberNodeOptions } from '../../src/node/member-node.js'
import type { SiteNode, SiteNodeOptions } from '../../src/node/site-node.js'
import type { Stream } from '@libp2p/interface'

/** The codes a join answer may carry for a request that is not a valid, issued invite. */
const JOIN_REFUSALS = new Set([ErrorCode.BAD_FRAME, ErrorCode.FRAME_TOO_LARGE, ErrorCode.BAD_SIGNATURE, ErrorCode.UNSUPPORTED_VERSION, ErrorCode.WRONG_SIGNER, ErrorCode.EXPIRED, ErrorCode.INVITE_UNKNOWN])
const LEAVE_REFUSALS = new Set([ErrorCode.BAD_FRAME, ErrorCode.FRAME_TOO_LARGE, ErrorCode.BAD_SIGNATURE, ErrorCode.WRONG_SIGNER, ErrorCode.WRONG_RECIPIENT, ErrorCode.NOT_MEMBER])
/** Stream errors of a deliver or post receiver for bad framing or bad frames. */
const FRAME_ERRORS = new Set([ErrorCode.BAD_FRAME, ErrorCode.FRAME_TOO_LARGE])
/** Epoch failures are stream errors on deliver (spec 15.2, "/tmtp/deliver/1.0.0", step 3). */
const EPOCH_ERRORS = new Set([...FRAME_ERRORS, ErrorCode.BAD_SIGNATURE, ErrorCode.WRONG_SIGNER, ErrorCode.WRONG_RECIPIENT, ErrorCode.DECRYPT_FAILED])
/** Reject codes of section 11.6 for an envelope that is not authentic. */
const ENVELOPE_REJECTS = new Set([ErrorCode.BAD_FRAME, ErrorCode.UNSUPPORTED_VERSION, ErrorCode.WRONG_RECIPIENT, ErrorCode.WRONG_SIGNER, ErrorCode.EXPIRED, ErrorCode.BAD_TIMESTAMP, ErrorCode.UNKNOWN_EPOCH, ErrorCode.DECRYPT_FAILED])

/** A length prefix one above the limit, followed by some of the body it announces. */
function oversize (max: number): Uint8Array {
  const prefix = encodeFrame(new Uint8Array(max + 1)).subarray(0, 3)
  return Uint8Array.from([...prefix, ...new Uint8Array(4096).fill(0xaa)])
}

/** Random bytes: half of them raw, half behind a valid small length prefix. */
function randomFrame (prng: Prng): Uint8Array {
  const body = prng.bytes(1 + prng.int(300))
  return prng.int(2) === 0 ? body : encodeFrame(body)
}

function assertCode (actual: ErrorCode | undefined, allowed: Set<ErrorCode>, what: string): void {
  assert.ok(actual !== undefined && allowed.has(actual), `${what}: answered ${String(actual)}, expected one of ${[...allowed].join(', ')}`)
}

/** A deliver or post answer to bad input: no ack, a stream error or rejects with the given codes. */
function assertRefusedFrames (answer: Answer, errors: Set<ErrorCode>, what: string): void {
  const r = receipts(answer)
  assert.equal(r.acks, 0, `${what}: nothing is acknowledged`)
  assert.ok(r.error !== undefined || r.rejects.length > 0, `${what}: the node answers (end: ${answer.end})`)
  if (r.error !== undefined) assertCode(r.error, errors, `${what} stream error`)
  for (const code of r.rejects) assertCode(code, ENVELOPE_REJECTS, `${what} reject`)
  assert.notEqual(answer.end, 'timeout', `${what}: the node closes the stream`)
}

/**
 * Most tests here read the code of every refused stream, so the nodes must not ban the rogue
 * midway; banning a peer that keeps causing refusals is tested on its own (limits: "bans").
 */
const COUNT_EVERY_REFUSAL = { refusalsPerMinute: 1_000_000 }

describe('hostile peers', function () {
  this.timeout(60_000)
  let net: TestNet
  let rogue: Rogue
  let site: SiteNode
  let member: MemberNode
  let checks = 0

  /** A site with one member device ("alice") that has received one message. */
  async function setup (siteOptions: Partial<SiteNodeOptions> = {}, memberOptions: Partial<MemberNodeOptions> = {}): Promise<void> {
    site = await net.site('site', { ...COUNT_EVERY_REFUSAL, ...siteOptions })
    member = await net.member('member', { ...COUNT_EVERY_REFUSAL, ...memberOptions })
    await member.join((await site.createInvite({ ref: 'alice' })).token)
    await stillServes()
  }

  /** The attacked nodes still serve their real users: a message gets through, a real join works. */
  async function stillServes (): Promise<void> {
    const n = ++checks
    const sent = await site.send({ to: ['alice'], subject: `check ${n}`, body: '' })
    await waitFor(`message ${n} in the real member's inbox`, async () => (await member.inbox()).some(m => m.id === sent.id), 15_000)
    const newcomer = await net.member(`newcomer-${n}`)
    const joined = await newcomer.join((await site.createInvite({ ref: `newcomer-${n}` })).token)
    assert.equal(joined.site, site.peerId)
    await net.stop(newcomer)
  }

  /** Nothing of the rogue reached the site's members, replies, or the member's inbox. */
  async function nothingFromRogue (r: Rogue = rogue): Promise<void> {
    const devices = (await site.members()).flatMap(m => m.devices.map(d => d.peerId))
    assert.ok(!devices.includes(r.peerId), 'the rogue is no member device')
    assert.deepEqual(await site.replies(), [], 'the site stored no reply')
    assert.ok((await member.inbox()).every(m => m.site === site.peerId), 'the inbox holds only the real site\'s messages')
  }

  beforeEach(async () => {
    net = await TestNet.create()
    rogue = await Rogue.start()
  })

  afterEach(async () => {
    await rogue.stop()
    await net.cleanup()
  })

  it('join: random bytes, mutated requests and oversize prefixes get their codes; a trickled request is handled', async () => {
    await setup({ joinsPerMinute: 1_000 })
    const prng = new Prng(0x5eed01)
    for (let i = 0; i < 12; i++) {
      assertCode(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, randomFrame(prng))), JOIN_REFUSALS, `random join ${i}`)
    }
    // a well-formed request for an invite the site never issued, signed with the site's key
    const siteKey = await loadIdentity(net.path('site'))
    const unissued = createInviteToken(siteKey, { addrs: [], secret: new Uint8Array(32).fill(9), expires: Date.now() + 60_000 })
    const valid = encodeFrame(rogue.joinRequest(unissued))
    assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, valid)), ErrorCode.INVITE_UNKNOWN)
    for (let i = 0; i < 24; i++) {
      assertCode(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, prng.mutate(valid))), JOIN_REFUSALS, `mutated join ${i}`)
    }
    assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, oversize(MAX_CONTROL_FRAME_SIZE))), ErrorCode.FRAME_TOO_LARGE)
    // a prefix still incomplete after 5 bytes is refused as soon as it exceeds the limit
    assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f))), ErrorCode.FRAME_TOO_LARGE)
    assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, Uint8Array.of(0x81, 0x00, 0x01))), ErrorCode.BAD_FRAME, 'a non-minimal prefix')
    assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, new Uint8Array(0))), ErrorCode.BAD_FRAME, 'no frame at all')
    const trickled = await rogue.exchange(site, PROTOCOL_JOIN, valid, { chunkSize: 1, gapMs: 1, timeoutMs: 9_000 })
    assert.equal(joinCode(trickled), ErrorCode.INVITE_UNKNOWN, 'a request trickled a byte at a time is still read')
    await stillServes()
    await nothingFromRogue()
  })

  it('join: a peer that stalls inside a frame is cut off at the control timeout; others are served meanwhile', async () => {
    await setup()
    const valid = encodeFrame(rogue.joinRequest((await site.createInvite()).token))
    const started = Date.now()
    const stalled = rogue.exchange(site, PROTOCOL_JOIN, valid.subarray(0, 40), { closeWrite: false, timeoutMs: 15_000 })
    await stillServes()
    const answer = await stalled
    assert.equal(answer.end, 'reset', 'the site aborts the stream itself (spec: "Timeouts")')
    assert.deepEqual(answer.frames, [], 'without an answer')
    assert.ok(Date.now() - started >= 9_000, 'after CONTROL_STREAM_TIMEOUT_MS')
    await nothingFromRogue()
  })

  it('join: guessed invites are refused (BAD_SIGNATURE, INVITE_UNKNOWN), then the peer is RATE_LIMITED', async () => {
    await setup()
    const real = await site.createInvite({ ref: 'bob' })
    const genuine = Invite.decode(SignedPayload.decode(uint8ArrayFromString(real.token.slice('tmtp1:'.length), 'base64url')).payload)
    // a guesser knows the format and the site's PeerId, not its key: its invites do not verify
    for (let i = 0; i < 5; i++) {
      const guess = signMessage(rogue.signer, SIGNING_CONTEXT.invite, Invite, { ...genuine, secret: new Uint8Array(randomBytes(32)) })
      const token = 'tmtp1:' + Buffer.from(guess).toString('base64url')
      assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, encodeFrame(rogue.joinRequest(token)))), ErrorCode.BAD_SIGNATURE)
    }
    // even with the site's signature (a leaked key), a secret it did not issue is unknown
    const siteKey = await loadIdentity(net.path('site'))
    for (let i = 0; i < 5; i++) {
      const token = createInviteToken(siteKey, { addrs: [], secret: new Uint8Array(randomBytes(32)), expires: Date.now() + 60_000 })
      assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, encodeFrame(rogue.joinRequest(token)))), ErrorCode.INVITE_UNKNOWN)
    }
    // the 11th attempt within a minute is refused before anything is checked, even a valid one
    assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, encodeFrame(rogue.joinRequest(real.token)))), ErrorCode.RATE_LIMITED)
    assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, oversize(MAX_CONTROL_FRAME_SIZE))), ErrorCode.RATE_LIMITED, 'the limit comes before the frame size check')
    // the real invite was not consumed: its owner joins with it
    const bob = await net.member('bob')
    assert.equal((await bob.join(real.token)).site, site.peerId)
    await stillServes()
    await nothingFromRogue()
  })

  it('join: of the addresses a device announces, the site keeps only those it may dial (TCP, in its address scope, at most 16)', async () => {
    const announce = [
      ...Array.from({ length: 20 }, (_, i) => `/ip4/10.0.${i}.5/tcp/22`),
      '/ip4/127.0.0.1/tcp/1', '/dns4/internal.example/tcp/80', '/ip4/8.8.8.8/udp/53',
      ...Array.from({ length: 20 }, (_, i) => `/ip4/8.8.${i}.8/tcp/4001`)
    ]
    const stored = async (scope: 'all' | 'public'): Promise<string[]> => {
      const name = `site-${scope}`
      const target = await net.site(name, { addressScope: scope })
      const insider = await Rogue.start({ announce })
      // the site stores what identify told it when identify completes, which may be after the join
      const identified = new Promise<void>(resolve => {
        target.libp2p.addEventListener('peer:identify', event => { if (event.detail.peerId.toString() === insider.peerId) resolve() })
      })
      try {
        assert.equal(joinCode(await insider.exchange(target, PROTOCOL_JOIN, encodeFrame(insider.joinRequest((await target.createInvite({ ref: 'mallory' })).token)))), ErrorCode.OK)
        await identified
      } finally {
        await insider.stop()
      }
      await net.stop(target)
      const db = await Database.open(join(net.path(name), DATABASE_DIR), { fsync: false })
      try {
        return (await (await SiteStore.open(db)).device(insider.peerId))?.addrs ?? []
      } finally {
        await db.close()
      }
    }
    const all = await stored('all')
    assert.ok(all.length > 0 && all.length <= 16, `at most 16 kept (${all.length})`)
    assert.ok(!all.some(a => a.includes('/udp/')), 'no address the site cannot dial')
    const pub = await stored('public')
    assert.ok(pub.length > 0 && pub.length <= 16)
    assert.deepEqual(pub.filter(a => !a.startsWith('/ip4/8.8.')), [], 'a public site keeps no private, loopback or DNS address')
  })

  it('join: fresh PeerIds from one address are RATE_LIMITED past the address\'s limit, before any signature is checked', async () => {
    const target = await net.site('site', { ...COUNT_EVERY_REFUSAL, joinsPerMinutePerIp: 5 })
    const codes: Array<ErrorCode | undefined> = []
    for (let i = 0; i < 7; i++) {
      const fresh = await Rogue.start()
      try {
        codes.push(joinCode(await fresh.exchange(target, PROTOCOL_JOIN, encodeFrame(fresh.joinRequest(rogue.invite())))))
      } finally {
        await fresh.stop()
      }
    }
    // a guessed invite (another site's) is refused on its own merits until the address is over its limit
    assert.deepEqual(codes.slice(0, 5).map(c => c === ErrorCode.RATE_LIMITED), [false, false, false, false, false], `first five: ${codes.join(', ')}`)
    assert.deepEqual(codes.slice(5), [ErrorCode.RATE_LIMITED, ErrorCode.RATE_LIMITED])
  })

  it('connections: one address holds at most maxConnectionsPerIp inbound connections, whatever its PeerIds; its members keep being served', async () => {
    await setup({ maxConnectionsPerIp: 3 })
    // the member's own connection is one of them: two more fit
    const rogues = await Promise.all(Array.from({ length: 4 }, async () => await Rogue.start()))
    try {
      const outcomes: boolean[] = []
      for (const r of rogues) outcomes.push(await r.connect(site).then(() => true, () => false))
      assert.deepEqual(outcomes, [true, true, false, false])
      const sent = await site.send({ to: ['alice'], subject: 'still here', body: '' })
      await waitFor('the member, already connected, is served', async () => (await member.inbox()).some(m => m.id === sent.id), 15_000)
    } finally {
      for (const r of rogues) await r.stop()
    }
    // the connections gone, the address has room again
    await waitFor('the site saw the rogues go', async () => site.libp2p.getConnections().length === 1, 10_000)
    await stillServes()
  })

  it('leave: forged, misattributed, random, mutated, oversize and trickled leaves get their codes; nobody is removed', async () => {
    await setup()
    const siteId = peerIdBytes(site.peerId)
    const leave = (fields: { site?: Uint8Array, device?: Uint8Array }, signer = rogue.signer): Uint8Array =>
      encodeFrame(signMessage(signer, SIGNING_CONTEXT.leave, Leave, { site: fields.site ?? siteId, device: fields.device ?? rogue.signer.peerId, time: Date.now() } as Leave))
    const valid = encodeFrame(signLeave(rogue.signer, siteId, Date.now()))
    assert.equal(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, valid)), ErrorCode.NOT_MEMBER)
    // the real member's leave, signed by the rogue: the named device is not the remote peer
    assert.equal(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, leave({ device: peerIdBytes(member.peerId) }))), ErrorCode.WRONG_SIGNER)
    assert.equal(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, leave({}, Ed25519Signer.generate()))), ErrorCode.BAD_SIGNATURE)
    assert.equal(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, leave({ site: Ed25519Signer.generate().peerId }))), ErrorCode.WRONG_RECIPIENT)
    const prng = new Prng(0x5eed02)
    for (let i = 0; i < 12; i++) {
      assertCode(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, randomFrame(prng))), LEAVE_REFUSALS, `random leave ${i}`)
    }
    for (let i = 0; i < 24; i++) {
      assertCode(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, prng.mutate(valid))), LEAVE_REFUSALS, `mutated leave ${i}`)
    }
    assert.equal(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, oversize(MAX_CONTROL_FRAME_SIZE))), ErrorCode.FRAME_TOO_LARGE)
    assert.equal(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, valid, { chunkSize: 1, gapMs: 1, timeoutMs: 9_000 })), ErrorCode.NOT_MEMBER)
    assert.deepEqual((await site.member('alice')).devices.map(d => d.peerId), [member.peerId], 'the real member is still there')
    await stillServes()
    await nothingFromRogue()
  })

  it('post: a non-member is refused with NOT_MEMBER before reading; a rogue member\'s bad frames get their codes', async () => {
    await setup()
    const fake = await rogue.epoch(site.peerId, generateX25519().publicKey)
    const post = (sender = rogue.peerId, recipient = site.peerId): Uint8Array => pushEnvelope(envelope(fake, { sender, recipient }, true))
    // a flood of posts from a peer that is not a member device
    for (let i = 0; i < 20; i++) {
      const a = await rogue.exchange(site, PROTOCOL_POST, post())
      assert.deepEqual(receipts(a), { acks: 0, rejects: [], error: ErrorCode.NOT_MEMBER }, `post ${i} from a non-member (${a.end})`)
    }
    assert.equal(receipts(await rogue.exchange(site, PROTOCOL_POST, oversize(MAX_FRAME_SIZE))).error, ErrorCode.NOT_MEMBER, 'refused before reading')

    // a rogue that joined with a real invite gets past admission, not past the checks
    const insider = await Rogue.start()
    try {
      assert.equal(joinCode(await insider.exchange(site, PROTOCOL_JOIN, encodeFrame(insider.joinRequest((await site.createInvite({ ref: 'mallory' })).token)))), ErrorCode.OK)
      const insiderPost = (sender = insider.peerId, recipient = site.peerId, epoch?: number): Uint8Array => pushEnvelope(envelope(fake, { sender, recipient, epoch }, true))
      // the site issued no epoch to it: UNKNOWN_EPOCH; sealed by it under another sender's name: WRONG_SIGNER
      assert.deepEqual(receipts(await insider.exchange(site, PROTOCOL_POST, insiderPost())).rejects, [ErrorCode.UNKNOWN_EPOCH])
      assert.deepEqual(receipts(await insider.exchange(site, PROTOCOL_POST, insiderPost(member.peerId))).rejects, [ErrorCode.WRONG_SIGNER])
      assert.deepEqual(receipts(await insider.exchange(site, PROTOCOL_POST, insiderPost(insider.peerId, member.peerId))).rejects, [ErrorCode.WRONG_RECIPIENT])
      assert.equal(receipts(await insider.exchange(site, PROTOCOL_POST, pushEpoch(fake.signed))).error, ErrorCode.BAD_FRAME, 'a member may not push epochs')
      assert.equal(receipts(await insider.exchange(site, PROTOCOL_POST, oversize(MAX_FRAME_SIZE))).error, ErrorCode.FRAME_TOO_LARGE)
      const prng = new Prng(0x5eed03)
      for (let i = 0; i < 12; i++) {
        assertRefusedFrames(await insider.exchange(site, PROTOCOL_POST, randomFrame(prng)), FRAME_ERRORS, `random post ${i}`)
      }
      const valid = insiderPost()
      for (let i = 0; i < 24; i++) {
        assertRefusedFrames(await insider.exchange(site, PROTOCOL_POST, prng.mutate(valid)), FRAME_ERRORS, `mutated post ${i}`)
      }
      const trickled = await insider.exchange(site, PROTOCOL_POST, valid, { chunkSize: 1, gapMs: 1, timeoutMs: 9_000 })
      assert.deepEqual(receipts(trickled).rejects, [ErrorCode.UNKNOWN_EPOCH], 'a post trickled a byte at a time is still read')
      assert.deepEqual(await site.replies(), [], 'the site stored nothing')
    } finally {
      await insider.stop()
    }
    await stillServes()
    await nothingFromRogue()
  })

  it('deliver: a flood from a node that is not a joined site is refused with NOT_MEMBER, and nothing is stored', async () => {
    await setup()
    const x25519 = (await loadEncryptionKey(net.path('member'))).publicKey
    const epoch = await rogue.epoch(member.peerId, x25519)
    const frames = Uint8Array.from([...pushEpoch(epoch.signed), ...pushEnvelope(envelope(epoch, { sender: rogue.peerId, recipient: member.peerId }))])
    for (let round = 0; round < 8; round++) {
      const answers = await Promise.all(Array.from({ length: 5 }, async () => await rogue.exchange(member, PROTOCOL_DELIVER, frames)))
      for (const answer of answers) assert.deepEqual(receipts(answer), { acks: 0, rejects: [], error: ErrorCode.NOT_MEMBER }, `round ${round}`)
    }
    assert.equal(receipts(await rogue.exchange(member, PROTOCOL_DELIVER, oversize(MAX_FRAME_SIZE))).error, ErrorCode.NOT_MEMBER, 'refused before reading')
    await stillServes()
    await nothingFromRogue()
  })

  describe('bans', () => {
    const BAN_MS = 3_000

    /** The rogue cannot open a stream to `target` at all: the connection gater refuses it. */
    async function refusedAtConnection (target: SiteNode | MemberNode, protocol: string): Promise<void> {
      await waitFor('the rogue disconnected', async () => target.libp2p.getConnections(rogue.libp2p.peerId).length === 0, 5_000)
      await assert.rejects(rogue.open(target, protocol), 'a banned peer cannot connect')
      assert.equal(target.libp2p.getConnections(rogue.libp2p.peerId).length, 0)
    }

    it('a non-member that keeps opening post streams is disconnected and refused until its ban ends; the member is served', async () => {
      await setup({ refusalsPerMinute: 5, banMs: BAN_MS })
      for (let i = 0; i < 5; i++) {
        assert.equal(receipts(await rogue.exchange(site, PROTOCOL_POST, new Uint8Array(0))).error, ErrorCode.NOT_MEMBER, `refusal ${i}`)
      }
      const banned = Date.now()
      // the sixth refusal in a minute bans the peer: whatever it was answered, it is cut off
      await rogue.exchange(site, PROTOCOL_POST, new Uint8Array(0)).catch(() => undefined)
      await refusedAtConnection(site, PROTOCOL_POST)
      await refusedAtConnection(site, PROTOCOL_JOIN)
      await stillServes()
      await new Promise(resolve => setTimeout(resolve, Math.max(0, banned + BAN_MS + 100 - Date.now())))
      assert.equal(receipts(await rogue.exchange(site, PROTOCOL_POST, new Uint8Array(0))).error, ErrorCode.NOT_MEMBER, 'after the ban the peer is heard again')
      await nothingFromRogue()
    })

    it('a peer that keeps sending bad joins is banned; a member device bans a node that keeps pushing to it', async () => {
      await setup({ refusalsPerMinute: 3, banMs: 60_000 }, { refusalsPerMinute: 3, banMs: 60_000 })
      for (let i = 0; i < 3; i++) assert.equal(joinCode(await rogue.exchange(site, PROTOCOL_JOIN, encodeFrame(randomBytes(40)))), ErrorCode.BAD_FRAME)
      await rogue.exchange(site, PROTOCOL_JOIN, encodeFrame(randomBytes(40))).catch(() => undefined)
      await refusedAtConnection(site, PROTOCOL_JOIN)

      for (let i = 0; i < 3; i++) assert.equal(receipts(await rogue.exchange(member, PROTOCOL_DELIVER, new Uint8Array(0))).error, ErrorCode.NOT_MEMBER)
      await rogue.exchange(member, PROTOCOL_DELIVER, new Uint8Array(0)).catch(() => undefined)
      await refusedAtConnection(member, PROTOCOL_DELIVER)
      // the device's own site is unaffected
      await stillServes()
      await nothingFromRogue()
    })
  })

  it('deliver: a joined site\'s forged epochs and envelopes are refused with their codes; a replay is stored once', async () => {
    await setup()
    await rogue.actAsSite()
    await member.join(rogue.invite())
    const x25519 = (await loadEncryptionKey(net.path('member'))).publicKey
    const deliver = async (bytes: Uint8Array): Promise<Answer> => await rogue.exchange(member, PROTOCOL_DELIVER, bytes)
    const epoch = await rogue.epoch(member.peerId, x25519)
    const other = await rogue.epoch(member.peerId, x25519)
    const env = (header: { sender?: string, epoch?: number, id?: Uint8Array } = {}, under = epoch): Uint8Array =>
      pushEnvelope(envelope(under, { sender: header.sender ?? rogue.peerId, recipient: member.peerId, epoch: header.epoch, id: header.id }))

    // epochs: signed by another key, naming the real site, for another device
    const stranger = Ed25519Signer.generate()
    const strangers = await rogue.epoch(member.peerId, x25519, { signer: stranger })
    assert.equal(receipts(await deliver(pushEpoch(strangers.signed))).error, ErrorCode.WRONG_SIGNER, 'an epoch naming another site')
    const own = SignedPayload.decode(epoch.signed)
    const badSignature = SignedPayload.encode({ payload: own.payload, signature: stranger.sign(own.payload) as Uint8Array<ArrayBuffer> })
    assert.equal(receipts(await deliver(Uint8Array.from([...pushEpoch(badSignature), ...env()]))).error, ErrorCode.BAD_SIGNATURE, 'an epoch signed by the wrong key')
    const siteKey = await loadIdentity(net.path('site'))
    const realSiteEpoch = await rogue.epoch(member.peerId, x25519, { signer: siteKey })
    assert.equal(receipts(await deliver(pushEpoch(realSiteEpoch.signed))).error, ErrorCode.WRONG_SIGNER, 'the real site\'s epoch relayed by another peer')
    const elsewhere = await rogue.epoch(site.peerId, generateX25519().publicKey)
    assert.equal(receipts(await deliver(pushEpoch(elsewhere.signed))).error, ErrorCode.WRONG_RECIPIENT, 'an epoch for another device')

    // envelopes: wrong key, unknown epoch, another sender's name
    const withEpoch = (...frames: Uint8Array[]): Uint8Array => Uint8Array.from([...pushEpoch(epoch.signed), ...frames.flatMap(f => [...f])])
    assert.deepEqual(receipts(await deliver(withEpoch(env({}, other)))).rejects, [ErrorCode.DECRYPT_FAILED])
    assert.deepEqual(receipts(await deliver(withEpoch(env({ epoch: 9 })))).rejects, [ErrorCode.UNKNOWN_EPOCH])
    assert.deepEqual(receipts(await deliver(withEpoch(env({ sender: site.peerId })))).rejects, [ErrorCode.WRONG_SIGNER])
    assert.deepEqual((await member.inbox()).filter(m => m.site === rogue.peerId), [], 'nothing stored from the rogue yet')

    // replay: the same envelope twice on one stream and again on a new stream is acknowledged and stored once
    const id = new Uint8Array(randomBytes(16))
    const once = env({ id })
    assert.ok(receipts(await deliver(withEpoch(once, once))).acks >= 1)
    assert.ok(receipts(await deliver(withEpoch(once))).acks >= 1)
    assert.ok(receipts(await deliver(once)).acks >= 1, 'with the epoch already stored')
    const fromRogue = (await member.inbox()).filter(m => m.site === rogue.peerId)
    assert.deepEqual(fromRogue.map(m => m.id), [Buffer.from(id).toString('hex')])
    await stillServes()
  })

  it('ids are per sender: another joined site cannot squat a message id so that the real site\'s message is acknowledged but never stored', async () => {
    await setup()
    await rogue.actAsSite()
    await member.join(rogue.invite())
    // the real site's message waits while the member blocks it; the rogue learns its id
    await member.block(site.peerId)
    const real = await site.send({ to: ['alice'], subject: 'the real one', body: '' })
    const x25519 = (await loadEncryptionKey(net.path('member'))).publicKey
    const epoch = await rogue.epoch(member.peerId, x25519)
    const squat = Uint8Array.from([...pushEpoch(epoch.signed), ...pushEnvelope(envelope(epoch, { sender: rogue.peerId, recipient: member.peerId, id: uint8ArrayFromString(real.id, 'base16') }))])
    assert.equal(receipts(await rogue.exchange(member, PROTOCOL_DELIVER, squat)).acks, 1, 'the rogue\'s message is stored')
    await member.unblock(site.peerId)
    await waitFor('the real message delivered', async () => (await site.message(real.id)).devices[0].state === 'delivered', 15_000)
    const same = (await member.inbox()).filter(m => m.id === real.id)
    assert.deepEqual(same.map(m => m.site).sort(), [site.peerId, rogue.peerId].sort(), 'both messages with that id are in the inbox')
    assert.equal((await member.read(real.id, { site: site.peerId })).subject, 'the real one')
    await assert.rejects(member.read(real.id), { code: 'INVALID_ARGUMENT' }, 'an id two sites sent needs its site')
  })

  it('deliver: an epoch number the device holds, re-issued with other keys, is refused (BAD_FRAME) and the stored messages stay readable', async () => {
    await setup()
    await rogue.actAsSite()
    await member.join(rogue.invite())
    const x25519 = (await loadEncryptionKey(net.path('member'))).publicKey
    const first = await rogue.epoch(member.peerId, x25519, { number: 5 })
    const id = new Uint8Array(randomBytes(16))
    const stored = Uint8Array.from([...pushEpoch(first.signed), ...pushEnvelope(envelope(first, { sender: rogue.peerId, recipient: member.peerId, id }))])
    assert.equal(receipts(await rogue.exchange(member, PROTOCOL_DELIVER, stored)).acks, 1)
    assert.ok(receipts(await rogue.exchange(member, PROTOCOL_DELIVER, pushEpoch(first.signed))).error === undefined, 'the same epoch again is nothing')
    const second = await rogue.epoch(member.peerId, x25519, { number: 5 })
    assert.equal(receipts(await rogue.exchange(member, PROTOCOL_DELIVER, pushEpoch(second.signed))).error, ErrorCode.BAD_FRAME)
    assert.equal((await member.read(Buffer.from(id).toString('hex'))).subject, 'from the rogue', 'the message sealed under the held epoch still opens')
  })

  it('deliver: random, mutated, oversize and trickled frames of a joined site get their codes', async () => {
    await setup()
    await rogue.actAsSite()
    await member.join(rogue.invite())
    const x25519 = (await loadEncryptionKey(net.path('member'))).publicKey
    const epoch = await rogue.epoch(member.peerId, x25519)
    const prng = new Prng(0x5eed04)
    for (let i = 0; i < 12; i++) {
      assertRefusedFrames(await rogue.exchange(member, PROTOCOL_DELIVER, randomFrame(prng)), FRAME_ERRORS, `random deliver ${i}`)
    }
    const valid = Uint8Array.from([...pushEpoch(epoch.signed), ...pushEnvelope(envelope(epoch, { sender: rogue.peerId, recipient: member.peerId }))])
    for (let i = 0; i < 24; i++) {
      assertRefusedFrames(await rogue.exchange(member, PROTOCOL_DELIVER, prng.mutate(valid)), EPOCH_ERRORS, `mutated deliver ${i}`)
    }
    assert.equal(receipts(await rogue.exchange(member, PROTOCOL_DELIVER, oversize(MAX_FRAME_SIZE))).error, ErrorCode.FRAME_TOO_LARGE)
    assert.deepEqual((await member.inbox()).filter(m => m.site === rogue.peerId), [], 'no mutation was stored')
    const trickled = await rogue.exchange(member, PROTOCOL_DELIVER, valid, { chunkSize: 1, gapMs: 0, timeoutMs: 9_000 })
    assert.equal(receipts(trickled).acks, 1, 'frames trickled a byte at a time are still read')
    assert.equal((await member.inbox()).filter(m => m.site === rogue.peerId).length, 1)
    await stillServes()
  })

  it('streams beyond the cap per connection are refused; the nodes keep serving', async () => {
    await setup()
    await rogue.actAsSite()
    await member.join(rogue.invite())
    /** Opens `count` streams at once and keeps them open; returns how many the node accepted and holds. */
    const flood = async (target: SiteNode | MemberNode, protocol: string, count: number): Promise<{ held: number, streams: Stream[], outcomes: string }> => {
      // one connection first, which the node has finished upgrading: the streams below are
      // opened at once and must share it, and yamux aborts a connection that gets more than 10
      // streams before the listening side's muxer is ready (MaxEarlyStreamsError)
      await rogue.connect(target)
      await waitFor('the node holds the rogue\'s connection', async () => target.libp2p.getConnections(rogue.libp2p.peerId).length > 0, 5_000)
      const opened = await Promise.allSettled(Array.from({ length: count }, async () => await rogue.open(target, protocol)))
      const streams = opened.flatMap(o => o.status === 'fulfilled' ? [o.value] : [])
      await new Promise(resolve => setTimeout(resolve, 300))
      const outcomes = opened.map(o => o.status === 'fulfilled' ? o.value.status : `rejected (${String(o.reason)})`).join(', ')
      return { held: streams.filter(s => s.status === 'open').length, streams, outcomes }
    }
    for (const [target, protocol] of [[site, PROTOCOL_JOIN], [member, PROTOCOL_DELIVER], [site, PROTOCOL_LEAVE]] as const) {
      const { held, streams, outcomes } = await flood(target, protocol, 24)
      assert.equal(held, DEFAULTS.maxInboundStreams, `${protocol}: the node holds exactly maxInboundStreams streams of one connection (streams: ${outcomes})`)
      for (const s of streams) s.abort(new Error('done'))
    }
    await stillServes()
    // the rogue's connection itself still works once its streams are gone
    assert.equal(resultCode(await rogue.exchange(site, PROTOCOL_LEAVE, encodeFrame(signLeave(rogue.signer, peerIdBytes(site.peerId), Date.now())))), ErrorCode.NOT_MEMBER)
    await nothingFromRogue()
  })
})
