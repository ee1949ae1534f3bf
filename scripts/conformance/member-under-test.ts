import { setTimeout as delay } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { openLeave } from '../../src/crypto/leave.js'
import { MAX_CLOCK_SKEW_MS, MAX_FRAME_SIZE, SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { decodeCanonical } from '../../src/protocol/messages.js'
import { EnvelopeHeader, KeyEpoch, SignedPayload, type Envelope } from '../../src/protocol/pb/tmtp.js'
import {
  contentWithSubjectBytes, encodeHeader, envelopeOf, flip, frame, framed, hex, inviteWithVersionBytes, NON_MINIMAL_PREFIX, nonCanonicalPushes,
  oversizeFrame, pushEnvelope, pushEpoch, pushWithTwoMembers, signRaw, truncated, UINT32_OVERFLOW_ONE, withSignature, withVersionBytes, type ContentFields
} from './craft.js'
import { KitSite, tokenOf } from './kit-site.js'
import { MEMBER_BLOB_REQUIREMENTS, memberBlobs } from './member-blob-suite.js'
import { describe as describeReceipts, type Receipts } from './receipts.js'
import { expect, expectEqual, requirement, Unmet, type Reporter, type Requirement } from './report.js'
import type { Driver } from './driver.js'
import type { Target } from './peer.js'

/**
 * The kit plays sites against a member device under test (spec 9.3, 10, 11, 12, 14, 15).
 * The driver redeems invite tokens, lists the inbox, posts replies, saves attachments, leaves and blocks;
 * everything else happens on the wire.
 */

const req = requirement

export const MEMBER_REQUIREMENTS = {
  tokenBad: req('token.bad', '9.3', 'texts that are not tokens (no prefix, TMTP1:, padding, +, a length of 1 mod 4, U+00A0 around, an empty body) are BAD_TOKEN'),
  tokenVersion: req('token.version', '9.3', 'a tmtp2: prefix and an invite of version 2 are UNSUPPORTED_VERSION'),
  tokenSignature: req('token.signature', '9.4', 'an invite whose signature fails is BAD_SIGNATURE'),
  tokenExpired: req('token.expired', '9.4', 'an expired invite is EXPIRED'),
  tokenLimits: req('token.limits', '9.4', 'an invite with a secret of 31 bytes, a ref of 257, a site_name of 129, 9 addrs, a site that is no PeerId or a version of 2^32+1 is BAD_TOKEN'),
  joinAccepted: req('join.accepted', '9.3', 'a token with ASCII white space around, a ref of 256 bytes, a site_name of 128 and 8 addrs (one unparsable) joins'),
  joinRequest: req('join.request', '15.1', 'the JoinRequest carries the token\'s invite bytes unchanged, a device key that opens for the device (spec 8) and a device_name of at most 128 bytes'),
  joinEmptyMemberId: req('join.empty-member-id', '15.1', 'OK with an empty member_id is a failed join: the site\'s deliver streams are then NOT_MEMBER'),
  joinRefused: req('join.refused', '15.1', 'a join answered INVITE_USED fails with that code and joins nothing'),
  deliverNotMember: req('deliver.not-member', '15.2', 'a deliver stream from a site not joined is answered NOT_MEMBER and stores nothing'),
  deliverAck: req('deliver.ack', '15.2', 'an epoch and an envelope are acknowledged by canonical Receipt{ack}s signed by the device over exactly its id; the inbox holds it as sent (a leading U+FEFF kept)'),
  deliverEpochStored: req('deliver.epoch-stored', '11.6', 'an envelope under an epoch received on an earlier stream is accepted'),
  deliverDuplicate: req('deliver.duplicate', '11.7', 'an envelope sent again (on a new stream, twice on one) is acknowledged again and stored once'),
  deliverDuplicateOrder: req('deliver.duplicate-order', '11.6', 'a stored id is acknowledged again even expired, tampered or under an unknown epoch (step 6), but steps 4 and 5 come first'),
  deliverIdsPerSender: req('deliver.ids-per-sender', '11.7', 'an id stored from one site is a new message from another site'),
  deliverVersion: req('deliver.version', '11.6', 'a header of version 2 is rejected UNSUPPORTED_VERSION'),
  deliverForm: req('deliver.form', '11.6', 'seq 0, epoch 0, a ciphertext under 16 bytes and a sender that is no PeerId are rejected BAD_FRAME'),
  deliverWrongRecipient: req('deliver.wrong-recipient', '11.6', 'an envelope for another device is rejected WRONG_RECIPIENT'),
  deliverWrongSigner: req('deliver.wrong-signer', '11.6', 'an envelope naming another sender than the site is rejected WRONG_SIGNER'),
  deliverExpired: req('deliver.expired', '11.6', 'an expired envelope is rejected EXPIRED'),
  deliverTimestamp: req('deliver.timestamp', '11.6', 'created 10 min ahead is rejected BAD_TIMESTAMP; 1 min ahead is accepted'),
  deliverUnknownEpoch: req('deliver.unknown-epoch', '11.6', 'an envelope under an epoch the device does not hold is rejected UNKNOWN_EPOCH'),
  deliverEpochExpired: req('deliver.epoch-expired', '11.6', 'an envelope created after its epoch expired (plus the skew) is rejected EXPIRED; one created at the expiry is accepted'),
  deliverDecrypt: req('deliver.decrypt', '11.6', 'a tampered ciphertext, a tampered header and another epoch\'s key are rejected DECRYPT_FAILED'),
  deliverContent: req('deliver.content', '11.2', 'Content over a limit (subject, body, content_type, thread, reply_to) or not UTF-8 is rejected BAD_FRAME; at the limits it is accepted'),
  deliverGap: req('deliver.gap', '11.4', 'an envelope after a gap in seq is acknowledged and stored at once'),
  deliverStreamErrors: req('deliver.stream-errors', '11.6', 'a header that does not decode (a uint32 overflow included) or an id not of 16 bytes ends the stream with BAD_FRAME'),
  deliverOneof: req('deliver.oneof', '5', 'a Push with no member or two members set ends the stream with BAD_FRAME'),
  deliverCanonical: req('deliver.canonical', '5', 'non-canonical Push and Envelope encodings end the stream with BAD_FRAME'),
  deliverFraming: req('deliver.framing', '14', 'a deliver frame above 128 KiB is FRAME_TOO_LARGE, one of 128 KiB is read; a non-minimal prefix and a truncated frame are BAD_FRAME'),
  epochRefusals: req('epoch.refusals', '10.2', 'epochs naming another site (WRONG_SIGNER), badly signed (BAD_SIGNATURE), for another device (WRONG_RECIPIENT), numbered 0 or with a 31-byte enc (BAD_FRAME), or of small order (DECRYPT_FAILED) end the stream'),
  epochReissue: req('epoch.reissue', '10.3', 'a held epoch number with other bytes ends the stream with BAD_FRAME and changes nothing; the same bytes again are nothing'),
  windowFull: req('window.full', '15.2', 'a full window of 1024 envelopes written at once is acknowledged, in acks of 1 to 1024 ids, without WINDOW_EXCEEDED'),
  windowExceeded: req('window.exceeded', '15.2', 'of 2048 envelopes written at once, none past the 1024th unanswered is accepted: the stream ends WINDOW_EXCEEDED unless the device answered in time'),
  postReply: req('post.reply', '15.3', 'a reply is a canonical Push{envelope} to the site under the newest epoch, decrypting to the body with reply_to and thread set (spec 11.2)'),
  postSeq: req('post.seq', '11.4', 'the next reply carries seq + 1'),
  postBadAck: req('post.bad-ack', '12', 'a reply answered with an ack whose signature fails is sent again as the same bytes'),
  postAckFinal: req('post.ack-final', '12', 'a reply acknowledged with a valid ack is never sent again'),
  block: req('block', '15.2', 'after block, the site\'s connections are accepted and its deliver streams answered BLOCKED, storing nothing'),
  joinBlocked: req('join.blocked', '9.3', 'a blocked site\'s invite is refused without a join'),
  leave: req('leave', '15.4', 'leave sends one canonical SignedPayload of a Leave for the site, signed by the device'),
  leaveBlocked: req('leave.blocked', '15.4', 'after leaving, the site\'s deliver streams are answered BLOCKED'),
  leaveRefusedBlocked: req('leave.refused', '15.4', 'a leave the site refuses still blocks the site'),
  ...MEMBER_BLOB_REQUIREMENTS
} as const

const SOON_MS = 15_000

export interface MemberSuiteOptions {
  member: Target
  driver: Driver
  reporter: Reporter
}

interface InboxMessage { id: string, site: string, subject?: string, body?: string }

export async function memberUnderTest (opts: MemberSuiteOptions): Promise<void> {
  const { member, driver, reporter } = opts
  const R = MEMBER_REQUIREMENTS
  const run = async (r: Requirement, fn: () => Promise<void>): Promise<boolean> => await reporter.check('member', r, fn)
  const sites: KitSite[] = []
  const kitSite = async (): Promise<KitSite> => { const s = await KitSite.start(member); sites.push(s); return s }
  const refused = async (token: string, expected: string, what: string): Promise<void> => {
    const failure = await driver.failure('join', { token })
    expect(failure !== undefined, `${what}: the join succeeded`)
    expectEqual(failure.code, expected, `${what}: the driver's error code`)
  }
  const inbox = async (): Promise<InboxMessage[]> => {
    const out = await driver.run<{ messages?: unknown }>('inbox')
    if (!Array.isArray(out.messages)) throw new Unmet('the driver\'s inbox printed no "messages" array')
    return (out.messages as InboxMessage[]).map(m => ({ ...m, id: String(m.id).toLowerCase() }))
  }
  const joinDriver = async (token: string): Promise<void> => { await driver.run('join', { token }) }

  try {
    const k1 = await kitSite()
    const body = Buffer.from(k1.inviteBytes()).toString('base64url')
    await run(R.tokenBad, async () => {
      const token = tokenOf(k1.inviteBytes())
      const cases: Array<[string, string]> = [
        ['text without a prefix', 'hello'],
        ['the prefix in upper case', 'TMTP1:' + body],
        ['padding', token + '='],
        ['a + character', token.slice(0, -2) + '+' + token.slice(-1)],
        ['a length of 1 mod 4', token + (body.length % 4 === 0 ? 'A' : body.length % 4 === 2 ? 'AAA' : 'AA')],
        ['U+00A0 before it', '\u00a0' + token],
        ['an empty body', 'tmtp1:']
      ]
      for (const [what, text] of cases) await refused(text, 'BAD_TOKEN', what)
    })
    await run(R.tokenVersion, async () => {
      await refused('tmtp2:' + body, 'UNSUPPORTED_VERSION', 'a tmtp2: token')
      await refused(tokenOf(k1.inviteBytes({ version: 2 })), 'UNSUPPORTED_VERSION', 'an invite of version 2')
    })
    await run(R.tokenSignature, async () => {
      const bytes = k1.inviteBytes()
      await refused(tokenOf(withSignature(bytes, flip(SignedPayload.decode(bytes).signature, 3))), 'BAD_SIGNATURE', 'a signature with one bit flipped')
    })
    await run(R.tokenExpired, async () => { await refused(k1.token({ expires: Date.now() - 1_000 }), 'EXPIRED', 'an invite that expired 1 s ago') })
    await run(R.tokenLimits, async () => {
      const addrs = Array.from({ length: 9 }, (_, i) => multiaddr(`/ip4/192.0.2.${i + 1}/tcp/4001`).bytes)
      await refused(k1.token({ secret: new Uint8Array(31) }), 'BAD_TOKEN', 'a secret of 31 bytes')
      await refused(k1.token({ ref: 'r'.repeat(257) }), 'BAD_TOKEN', 'a ref of 257 bytes')
      await refused(k1.token({ siteName: 'ü'.repeat(64) + 'n' }), 'BAD_TOKEN', 'a site_name of 129 bytes')
      await refused(k1.token({ addrs }), 'BAD_TOKEN', '9 addrs')
      await refused(k1.token({ site: k1.peer.id.subarray(1) }), 'BAD_TOKEN', 'a site of 37 bytes')
      await refused(tokenOf(k1.inviteBytes({}, undefined, inviteWithVersionBytes(k1.inviteFields(), UINT32_OVERFLOW_ONE))), 'BAD_TOKEN', 'a version of 2^32+1')
    })

    let k1Token = ''
    await run(R.joinAccepted, async () => {
      const real = k1.peer.addrs().map(a => a.decapsulateCode(421).bytes)
      const others = Array.from({ length: 7 }, (_, i) => i === 0 ? Uint8Array.of(0xff, 0xff, 0x01) : multiaddr(`/ip4/192.0.2.${i}/tcp/9`).bytes)
      k1Token = k1.token({ ref: 'r'.repeat(256), siteName: 'ü'.repeat(64), addrs: [...real, ...others].slice(0, 8) })
      const out = await driver.run<{ site?: unknown }>('join', { token: ' \t\n' + k1Token + '\r\n ' })
      expectEqual(out.site, k1.peer.peerId, 'the site the driver says it joined')
    })
    await run(R.joinRequest, async () => {
      const seen = k1.joins.filter(j => j.remote === member.peerId)
      expectEqual(seen.length, 1, 'JoinRequests the kit\'s site received')
      expect(seen[0].problem === undefined, `the JoinRequest: ${seen[0].problem ?? ''}`)
      expectEqual(hex(seen[0].invite ?? new Uint8Array(0)), hex(Buffer.from(k1Token.slice(6), 'base64url')), 'the invite bytes')
      expect(Buffer.byteLength(seen[0].deviceName ?? '') <= 128, 'a device_name over 128 bytes')
      expect(k1.deviceX25519 !== undefined, 'no device key opened')
    })
    const notMember = async (site: KitSite, what: string): Promise<void> => {
      const r = await site.deliver(framed(pushEpoch(signRaw(site.peer.signer, SIGNING_CONTEXT.keyEpoch, new Uint8Array(0)))))
      expect(r.error === ErrorCode.NOT_MEMBER && r.acks === 0, `${what}: expected NOT_MEMBER, got ${describeReceipts(r)}`)
    }
    await run(R.joinEmptyMemberId, async () => {
      const k2 = await kitSite()
      k2.joinAnswer = { code: ErrorCode.OK, memberId: '' }
      expect(await driver.failure('join', { token: k2.token() }) !== undefined, 'a join answered OK with an empty member_id succeeded')
      await notMember(k2, 'the site\'s deliver stream afterwards')
    })
    await run(R.joinRefused, async () => {
      const k3 = await kitSite()
      k3.joinAnswer = { code: ErrorCode.INVITE_USED, memberId: '' }
      await refused(k3.token(), 'INVITE_USED', 'a join answered INVITE_USED')
      await notMember(k3, 'the site\'s deliver stream afterwards')
    })
    await run(R.deliverNotMember, async () => { await notMember(await kitSite(), 'a site never joined') })

    // deliveries from k1 (acked: ids the member acknowledged; inbox checked through the driver)
    const accepted = async (site: KitSite, bytes: Uint8Array, ids: Uint8Array[], what: string): Promise<Receipts> => {
      const r = await site.deliver(bytes)
      const want = ids.map(hex)
      expect(r.problems.length === 0 && r.error === undefined && r.rejects.length === 0 && want.every(id => r.acked.includes(id)) && r.acked.every(id => want.includes(id)),
        `${what}: expected acks of ${want.length} id(s), got ${describeReceipts(r)}`)
      return r
    }
    const rejected = async (env: Envelope, expected: ErrorCode, what: string, site = k1): Promise<void> => {
      const r = await site.deliver(frame(pushEnvelope(env)))
      expect(r.acked.length === 0 && r.error === undefined && r.rejects.length === 1 && r.rejects[0].code === expected && r.rejects[0].idHex === hex(idOf(env)),
        `${what}: expected a reject ${expected}, got ${describeReceipts(r)}`)
    }
    const streamError = async (bytes: Uint8Array, expected: ErrorCode, what: string): Promise<void> => {
      const r = await k1.deliver(bytes)
      expect(r.error === expected && r.acked.length === 0, `${what}: expected stream error ${expected}, got ${describeReceipts(r)}`)
    }
    const needJoined = (): void => { if (k1.deviceX25519 === undefined) throw new Unmet('needs join.accepted, which failed') }
    let m1: Envelope | undefined
    const needM1 = (): Envelope => { if (m1 === undefined) throw new Unmet('needs deliver.ack, which failed'); return m1 }
    const inInbox = async (env: Envelope, site = k1): Promise<InboxMessage[]> => (await inbox()).filter(m => m.id === hex(idOf(env)) && m.site === site.peer.peerId)
    await run(R.deliverAck, async () => {
      needJoined()
      const e1 = await k1.epoch(1)
      m1 = k1.envelope(k1.header(1), { subject: '\ufeffconformance', body: 'first' })
      const r = await accepted(k1, framed(pushEpoch(e1.signed), pushEnvelope(m1)), [idOf(m1)], 'epoch 1 and an envelope')
      expectEqual(r.end, 'closed', 'the deliver stream ends')
      expectEqual((await inInbox(m1)).map(m => [m.subject, m.body]), [['\ufeffconformance', 'first']], 'the message as the inbox lists it')
    })
    await run(R.deliverEpochStored, async () => {
      needM1()
      const m2 = k1.envelope(k1.header(1))
      await accepted(k1, frame(pushEnvelope(m2)), [idOf(m2)], 'an envelope under epoch 1 on a new stream')
    })
    await run(R.deliverDuplicate, async () => {
      await accepted(k1, frame(pushEnvelope(needM1())), [idOf(needM1())], 'the first envelope again')
      const m3 = k1.envelope(k1.header(1))
      await accepted(k1, framed(pushEnvelope(m3), pushEnvelope(m3)), [idOf(m3)], 'an envelope twice on one stream')
      expectEqual((await inInbox(needM1())).length + (await inInbox(m3)).length, 2, 'inbox entries of the two messages')
    })
    await run(R.deliverDuplicateOrder, async () => {
      const id = idOf(needM1())
      await accepted(k1, frame(pushEnvelope(envelopeOf(needM1().header, flip(needM1().ciphertext, -1)))), [id], 'the stored id, tampered')
      await accepted(k1, frame(pushEnvelope(k1.envelope(k1.header(1, { id, expires: Date.now() - 1_000 })))), [id], 'the stored id, expired')
      await accepted(k1, frame(pushEnvelope(k1.envelope(k1.header(77, { id }), {}, 1))), [id], 'the stored id under epoch 77')
      await rejected(k1.envelope(k1.header(1, { id, recipient: k1.peer.id })), ErrorCode.WRONG_RECIPIENT, 'the stored id for another recipient')
      await rejected(k1.envelope(k1.header(1, { id, sender: Ed25519Signer.generate().peerId })), ErrorCode.WRONG_SIGNER, 'the stored id naming another sender')
    })
    const k4 = await kitSite()
    await run(R.deliverIdsPerSender, async () => {
      await joinDriver(k4.token())
      const e = await k4.epoch(1)
      const same = k4.envelope(k4.header(1, { id: idOf(needM1()) }))
      await accepted(k4, framed(pushEpoch(e.signed), pushEnvelope(same)), [idOf(same)], 'another site\'s envelope with the same id')
      expectEqual((await inInbox(same, k4)).length, 1, 'inbox entries of the other site\'s message')
    })
    await run(R.deliverVersion, async () => { needM1(); await rejected(k1.envelope(k1.header(1, { version: 2 })), ErrorCode.UNSUPPORTED_VERSION, 'version 2') })
    await run(R.deliverForm, async () => {
      needM1()
      await rejected(k1.envelope(k1.header(1, { seq: 0 })), ErrorCode.BAD_FRAME, 'seq 0')
      await rejected(k1.envelope(k1.header(0), {}, 1), ErrorCode.BAD_FRAME, 'epoch 0')
      await rejected(envelopeOf(encodeHeader(k1.header(1)), new Uint8Array(15)), ErrorCode.BAD_FRAME, 'a ciphertext of 15 bytes')
      await rejected(k1.envelope(k1.header(1, { sender: k1.peer.id.subarray(1) })), ErrorCode.BAD_FRAME, 'a sender of 37 bytes')
    })
    await run(R.deliverWrongRecipient, async () => { needM1(); await rejected(k1.envelope(k1.header(1, { recipient: k1.peer.id })), ErrorCode.WRONG_RECIPIENT, 'for the site itself') })
    await run(R.deliverWrongSigner, async () => { needM1(); await rejected(k1.envelope(k1.header(1, { sender: k4.peer.id })), ErrorCode.WRONG_SIGNER, 'naming another joined site') })
    await run(R.deliverExpired, async () => { needM1(); await rejected(k1.envelope(k1.header(1, { expires: Date.now() - 1_000 })), ErrorCode.EXPIRED, 'expired 1 s ago') })
    await run(R.deliverTimestamp, async () => {
      needM1()
      await rejected(k1.envelope(k1.header(1, { created: Date.now() + 600_000 })), ErrorCode.BAD_TIMESTAMP, 'created 10 min ahead')
      const ahead = k1.envelope(k1.header(1, { created: Date.now() + 60_000 }))
      await accepted(k1, frame(pushEnvelope(ahead)), [idOf(ahead)], 'created 1 min ahead')
    })
    await run(R.deliverUnknownEpoch, async () => { needM1(); await rejected(k1.envelope(k1.header(99), {}, 1), ErrorCode.UNKNOWN_EPOCH, 'epoch 99, never sent') })
    await run(R.deliverEpochExpired, async () => {
      needM1()
      const now = Date.now()
      const old = await k1.epoch(2, { created: now - 2 * 3600_000, expires: now - 3600_000 })
      const late = k1.envelope(k1.header(2, { created: now }))
      const r = await k1.deliver(framed(pushEpoch(old.signed), pushEnvelope(late)))
      expect(r.rejects.length === 1 && r.rejects[0].code === ErrorCode.EXPIRED && r.acked.length === 0, `created 1 h after its epoch expired: ${describeReceipts(r)}`)
      const inTime = k1.envelope(k1.header(2, { created: now - 3600_000 + MAX_CLOCK_SKEW_MS - 60_000 }))
      await accepted(k1, frame(pushEnvelope(inTime)), [idOf(inTime)], 'created within the skew of its epoch\'s expiry')
    })
    await run(R.deliverDecrypt, async () => {
      needM1()
      const env = k1.envelope(k1.header(1))
      await rejected(envelopeOf(env.header, flip(env.ciphertext, 0)), ErrorCode.DECRYPT_FAILED, 'a tampered ciphertext')
      const h = k1.header(1)
      await rejected(envelopeOf(encodeHeader({ ...h, created: (h.created ?? 0) - 1 }), k1.envelope(h).ciphertext), ErrorCode.DECRYPT_FAILED, 'a tampered header')
      await rejected(k1.envelope(k1.header(1), {}, 2), ErrorCode.DECRYPT_FAILED, 'naming epoch 1, sealed with epoch 2\'s key')
    })
    await run(R.deliverContent, async () => {
      needM1()
      const over: Array<[string, ContentFields | Uint8Array]> = [
        ['a subject of 1025 bytes', { subject: 's'.repeat(1025) }],
        ['a body of 65537 bytes', { body: 'b'.repeat(65537) }],
        ['a content_type of 129 bytes', { contentType: 't'.repeat(129) }],
        ['a thread of 15 bytes', { thread: new Uint8Array(15) }],
        ['a reply_to of 17 bytes', { replyTo: new Uint8Array(17) }],
        ['a subject that is not UTF-8', contentWithSubjectBytes(Uint8Array.of(0x61, 0xff, 0xfe))]
      ]
      for (const [what, c] of over) await rejected(k1.envelope(k1.header(1), c), ErrorCode.BAD_FRAME, what)
      const full = k1.envelope(k1.header(1), { subject: 's'.repeat(1024), body: 'b'.repeat(65536), contentType: 't'.repeat(128) })
      await accepted(k1, frame(pushEnvelope(full)), [idOf(full)], 'every field at its limit')
    })
    await run(R.deliverGap, async () => {
      needM1()
      const gap = k1.envelope(k1.header(1, { seq: 1_000_000 }))
      await accepted(k1, frame(pushEnvelope(gap)), [idOf(gap)], 'seq 1000000 after a gap')
      expectEqual((await inInbox(gap)).length, 1, 'inbox entries of the message after the gap')
    })
    const someEnvelope = (): Envelope => k1.envelope(k1.header(1))
    await run(R.deliverStreamErrors, async () => {
      needM1()
      await streamError(frame(pushEnvelope(envelopeOf(Uint8Array.of(0x12, 0x7f), new Uint8Array(32)))), ErrorCode.BAD_FRAME, 'a header that does not decode')
      const env = someEnvelope()
      await streamError(frame(pushEnvelope(envelopeOf(withVersionBytes(env.header, UINT32_OVERFLOW_ONE), env.ciphertext))), ErrorCode.BAD_FRAME, 'a header version of 2^32+1')
      await streamError(frame(pushEnvelope(k1.envelope(k1.header(1, { id: new Uint8Array(15) })))), ErrorCode.BAD_FRAME, 'an id of 15 bytes')
    })
    await run(R.deliverOneof, async () => {
      needM1()
      await streamError(frame(new Uint8Array(0)), ErrorCode.BAD_FRAME, 'a Push with no member set')
      await streamError(frame(pushWithTwoMembers(someEnvelope())), ErrorCode.BAD_FRAME, 'a Push with two members set')
    })
    await run(R.deliverCanonical, async () => {
      needM1()
      for (const [what, bytes] of nonCanonicalPushes(someEnvelope())) await streamError(frame(bytes), ErrorCode.BAD_FRAME, what)
    })
    await run(R.deliverFraming, async () => {
      needM1()
      await streamError(oversizeFrame(MAX_FRAME_SIZE), ErrorCode.FRAME_TOO_LARGE, 'a length prefix of 131073')
      const h = encodeHeader(k1.header(1))
      const empty = pushEnvelope(envelopeOf(h, new Uint8Array(0))).byteLength
      let fitted = pushEnvelope(envelopeOf(h, new Uint8Array(MAX_FRAME_SIZE - empty - 4)))
      fitted = pushEnvelope(envelopeOf(h, new Uint8Array(MAX_FRAME_SIZE - empty - 4 + MAX_FRAME_SIZE - fitted.byteLength)))
      expectEqual(fitted.byteLength, MAX_FRAME_SIZE, 'the kit\'s 128 KiB frame')
      const r = await k1.deliver(frame(fitted))
      expect(r.error === undefined && r.rejects.length === 1 && r.rejects[0].code === ErrorCode.DECRYPT_FAILED, `a frame of 131072 bytes is read (a reject DECRYPT_FAILED expected): ${describeReceipts(r)}`)
      await streamError(NON_MINIMAL_PREFIX, ErrorCode.BAD_FRAME, 'a non-minimal length prefix')
      await streamError(truncated(frame(pushEnvelope(someEnvelope()))), ErrorCode.BAD_FRAME, 'a truncated frame')
    })
    await run(R.epochRefusals, async () => {
      needM1()
      const stranger = Ed25519Signer.generate()
      const fields = (f: Partial<KeyEpoch>): Uint8Array => KeyEpoch.encode({ ...KeyEpoch.decode(SignedPayload.decode(k1.epochs.get(1)!.signed).payload), ...f } as KeyEpoch)
      const cases: Array<[string, Uint8Array, ErrorCode]> = [
        ['naming another site', signRaw(k1.peer.signer, SIGNING_CONTEXT.keyEpoch, fields({ site: stranger.peerId } as Partial<KeyEpoch>)), ErrorCode.WRONG_SIGNER],
        ['signed by another key', signRaw(stranger, SIGNING_CONTEXT.keyEpoch, fields({ epoch: 5 })), ErrorCode.BAD_SIGNATURE],
        ['with a signature of 63 bytes', withSignature(signRaw(k1.peer.signer, SIGNING_CONTEXT.keyEpoch, fields({ epoch: 5 })), new Uint8Array(63)), ErrorCode.BAD_SIGNATURE],
        ['for another device', signRaw(k1.peer.signer, SIGNING_CONTEXT.keyEpoch, fields({ epoch: 5, device: stranger.peerId } as Partial<KeyEpoch>)), ErrorCode.WRONG_RECIPIENT],
        ['numbered 0', signRaw(k1.peer.signer, SIGNING_CONTEXT.keyEpoch, fields({ epoch: 0 })), ErrorCode.BAD_FRAME],
        ['with an enc of 31 bytes', signRaw(k1.peer.signer, SIGNING_CONTEXT.keyEpoch, fields({ epoch: 5, enc: new Uint8Array(31) } as Partial<KeyEpoch>)), ErrorCode.BAD_FRAME],
        ['with an enc of small order (0)', signRaw(k1.peer.signer, SIGNING_CONTEXT.keyEpoch, fields({ epoch: 5, enc: new Uint8Array(32) } as Partial<KeyEpoch>)), ErrorCode.DECRYPT_FAILED]
      ]
      for (const [what, signed, code] of cases) await streamError(frame(pushEpoch(signed)), code, `an epoch ${what}`)
    })
    await run(R.epochReissue, async () => {
      needM1()
      const held = k1.epochs.get(1)!
      const r = await k1.deliver(frame(pushEpoch(held.signed)))
      expect(r.error === undefined && r.end === 'closed', `epoch 1 again, the same bytes: ${describeReceipts(r)}`)
      const other = await k1.epoch(1)
      await streamError(frame(pushEpoch(other.signed)), ErrorCode.BAD_FRAME, 'epoch 1 with other bytes')
      k1.epochs.set(1, held)
      const after = k1.envelope(k1.header(1))
      await accepted(k1, frame(pushEnvelope(after)), [idOf(after)], 'an envelope under the held epoch 1 afterwards')
    })
    await run(R.windowFull, async () => {
      needM1()
      const envelopes = Array.from({ length: 1024 }, () => k1.envelope(k1.header(1), { subject: 'window' }))
      const r = await accepted(k1, framed(...envelopes.map(pushEnvelope)), envelopes.map(idOf), '1024 envelopes at once')
      expect(r.acks >= 1, 'no ack')
    })
    await run(R.windowExceeded, async () => {
      needM1()
      const envelopes = Array.from({ length: 2048 }, () => k1.envelope(k1.header(1), { subject: 'over the window' }))
      const r = await k1.deliver(framed(...envelopes.map(pushEnvelope)))
      const answered = r.acked.length + r.rejects.length
      expect(r.problems.length === 0 && r.rejects.length === 0, describeReceipts(r))
      if (r.error === ErrorCode.WINDOW_EXCEEDED) {
        expect(answered <= 2048 - 1025, `WINDOW_EXCEEDED after ${answered} of 2048 were answered: at most ${2048 - answered} were unanswered, the device may hold 1024`)
      } else {
        expect(r.error === undefined && answered === 2048, `expected WINDOW_EXCEEDED or every envelope answered, got ${describeReceipts(r)}`)
      }
    })

    // replies: the member posts to k1 under its newest epoch
    const posted = async (count: number): Promise<void> => {
      const got = await k1.postsArrived(count, SOON_MS)
      expect(got.length >= count, `${count} post(s) expected within ${SOON_MS / 1000} s, ${got.length} arrived`)
    }
    let firstSeq = 0
    await run(R.postReply, async () => {
      needM1()
      const e3 = await k1.epoch(3)
      const trigger = k1.envelope(k1.header(3))
      await accepted(k1, framed(pushEpoch(e3.signed), pushEnvelope(trigger)), [idOf(trigger)], 'epoch 3 and an envelope')
      await driver.run('reply', { id: hex(idOf(needM1())), site: k1.peer.peerId, body: 'reply one' })
      await posted(1)
      const p = k1.posts[0]
      expect(p.problem === undefined, `the post: ${p.problem ?? ''}`)
      expectEqual([hex(p.header.sender), hex(p.header.recipient), p.header.epoch], [hex(member.id), hex(k1.peer.id), 3], 'sender, recipient and epoch (the newest)')
      expect(p.header.seq >= 1 && Math.abs(p.header.created - p.at) <= MAX_CLOCK_SKEW_MS, `seq ${p.header.seq}, created ${p.at - p.header.created} ms before arrival`)
      expectEqual([p.content?.body, hex(p.content?.replyTo ?? new Uint8Array(0)), hex(p.content?.thread ?? new Uint8Array(0))], ['reply one', hex(idOf(needM1())), hex(idOf(needM1()))], 'body, reply_to and thread')
      firstSeq = p.header.seq
    })
    await run(R.postSeq, async () => {
      if (firstSeq === 0) throw new Unmet('needs post.reply, which failed')
      await driver.run('reply', { id: hex(idOf(needM1())), site: k1.peer.peerId, body: 'reply two' })
      await posted(2)
      expectEqual(k1.posts[1].header.seq, firstSeq + 1, 'seq of the next reply')
    })
    await run(R.postBadAck, async () => {
      if (firstSeq === 0) throw new Unmet('needs post.reply, which failed')
      const before = k1.posts.length
      k1.postMode = 'bad-ack'
      await driver.run('reply', { id: hex(idOf(needM1())), site: k1.peer.peerId, body: 'reply three' })
      await posted(before + 1)
      k1.postMode = 'ack'
      const first = k1.posts[before]
      const deadline = Date.now() + 30_000
      while (!k1.posts.slice(before + 1).some(p => p.idHex === first.idHex) && Date.now() < deadline) await delay(100)
      const again = k1.posts.slice(before + 1).find(p => p.idHex === first.idHex)
      expect(again !== undefined, 'the reply was not sent again within 30 s')
      expectEqual(hex(again.bytes), hex(first.bytes), 'the resent envelope\'s bytes')
    })
    await run(R.postAckFinal, async () => {
      expect(k1.acked.size > 0, 'no reply was acknowledged')
      expect(k1.violations.length === 0, k1.violations.join('; '))
    })

    await memberBlobs({
      member,
      driver,
      run,
      site: () => { needM1(); return k1 },
      accepted: async env => { await accepted(k1, frame(pushEnvelope(env)), [idOf(env)], 'a message listing attachments') },
      rejected: async (env, code, what) => { await rejected(env, code, what) }
    })

    await run(R.block, async () => {
      await driver.run('block', { site: k4.peer.peerId })
      await k4.peer.disconnect(member.peerId)
      const late = k4.envelope(k4.header(1))
      const r = await k4.deliver(frame(pushEnvelope(late)))
      expect(r.error === ErrorCode.BLOCKED && r.acks === 0 && r.end === 'closed', `expected BLOCKED, got ${describeReceipts(r)}`)
      expectEqual((await inInbox(late, k4)).length, 0, 'inbox entries of the blocked site\'s message')
    })
    await run(R.joinBlocked, async () => {
      const joinsBefore = k4.joins.length
      expect(await driver.failure('join', { token: k4.token() }) !== undefined, 'the join with a blocked site\'s invite succeeded')
      expectEqual(k4.joins.length - joinsBefore, 0, 'JoinRequests the blocked site received')
    })
    await run(R.leave, async () => {
      needJoined()
      await driver.run('leave', { site: k1.peer.peerId })
      const seen = k1.leaves.filter(l => l.remote === member.peerId)
      expectEqual(seen.length, 1, 'leave frames the site received')
      decodeCanonical(SignedPayload, seen[0].frame, 'leave')
      openLeave(seen[0].frame, k1.peer.id, member.id)
    })
    await run(R.leaveBlocked, async () => {
      needM1()
      const r = await k1.deliver(frame(pushEnvelope(k1.envelope(k1.header(1)))))
      expect(r.error === ErrorCode.BLOCKED && r.acks === 0, `expected BLOCKED, got ${describeReceipts(r)}`)
    })
    await run(R.leaveRefusedBlocked, async () => {
      const k5 = await kitSite()
      await joinDriver(k5.token())
      k5.leaveAnswer = ErrorCode.NOT_MEMBER
      await driver.failure('leave', { site: k5.peer.peerId })
      const e = await k5.epoch(1)
      const r = await k5.deliver(framed(pushEpoch(e.signed), pushEnvelope(k5.envelope(k5.header(1)))))
      expect(r.error === ErrorCode.BLOCKED && r.acks === 0, `expected BLOCKED, got ${describeReceipts(r)}`)
    })
  } finally {
    for (const s of sites) await s.stop().catch(() => {})
  }
}

function idOf (env: Envelope): Uint8Array {
  return EnvelopeHeader.decode(env.header).id
}
