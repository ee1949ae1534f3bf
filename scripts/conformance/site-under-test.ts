import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { signDeviceKey } from '../../src/crypto/device-key.js'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { createInviteToken } from '../../src/crypto/invite.js'
import { signLeave } from '../../src/crypto/leave.js'
import { MAX_CLOCK_SKEW_MS, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, PROTOCOL_LEAVE, PROTOCOL_POST, SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { codeFromWire, ErrorCode } from '../../src/protocol/errors.js'
import { decodeMessage } from '../../src/protocol/messages.js'
import { DeviceKey, EnvelopeHeader, Invite, Leave, Result, SignedPayload, type Envelope } from '../../src/protocol/pb/tmtp.js'
import {
  concat, content, contentWithSubjectBytes, encodeHeader, envelopeOf, flip, frame, framed, hex, inviteWithVersionBytes, newId, NON_MINIMAL_PREFIX, nonCanonicalPushes,
  oversizeFrame, pushEnvelope, pushEpoch, pushWithTwoMembers, seal, signRaw, truncated, UINT32_OVERFLOW_ONE, withSignature, withVersionBytes, type ContentFields, type HeaderFields
} from './craft.js'
import { KitDevice, tokenBytes, type ReceivedEnvelope } from './kit-device.js'
import { KitPeer, type Target } from './peer.js'
import { describe as describeReceipts, readReceipts, type Receipts } from './receipts.js'
import { expect, expectEqual, requirement, Unmet, type Reporter, type Requirement } from './report.js'
import { SITE_BLOB_REQUIREMENTS, siteBlobs } from './site-blob-suite.js'
import type { Driver } from './driver.js'

/**
 * The kit plays member devices against a site under test (spec 8, 9, 11, 12, 14, 15). The
 * driver issues invites, sends messages (one with a file), lists replies and removes a member; everything
 * else happens on the wire.
 */

const req = requirement

export const SITE_REQUIREMENTS = {
  joinOk: req('join.ok', '15.1', 'a valid invite is answered OK with a member id of 1 to 128 bytes'),
  joinRepeat: req('join.repeat', '15.1', 'the same invite from the same device is answered OK again with the same member id'),
  joinUsed: req('join.used', '15.1', 'an invite redeemed by another device is INVITE_USED'),
  joinExpired: req('join.expired', '9.4', 'an invite past its expiry is EXPIRED, without clock-skew allowance'),
  joinWrongSite: req('join.wrong-site', '9.4', 'another site\'s invite is WRONG_SIGNER'),
  joinBadSignature: req('join.bad-signature', '9.4', 'an invite whose signature fails or is not 64 bytes is BAD_SIGNATURE, a 0-byte JoinRequest too (spec 5)'),
  joinVersion: req('join.version', '9.4', 'an invite of version 2 is UNSUPPORTED_VERSION before its signature is checked; a version of 2^32+1 is BAD_FRAME'),
  joinForm: req('join.form', '9.4', 'malformed invites (a non-canonical SignedPayload, 9 addrs, a site that is no PeerId) and undecodable requests are BAD_FRAME'),
  joinDeviceKey: req('join.device-key', '8', 'device keys of another device (WRONG_SIGNER), badly signed (BAD_SIGNATURE), of 31 bytes or of small order (BAD_FRAME) are refused and record nothing'),
  joinDeviceName: req('join.device-name', '15.1', 'a device_name of 129 bytes is BAD_FRAME, of 128 bytes is not'),
  joinFraming: req('join.framing', '14', 'a join frame above 16 KiB is FRAME_TOO_LARGE, one of 16 KiB is read; a non-minimal prefix, no frame and a truncated frame are BAD_FRAME'),
  joinRateLimit: req('join.rate-limit', '15.1', 'the 11th join attempt of a peer within 60 s is RATE_LIMITED'),
  deliverEpoch: req('deliver.epoch', '15.2', 'a queued message is delivered on a deliver stream, after a Push{epoch} that opens (spec 10.2) for the device'),
  deliverEnvelope: req('deliver.envelope', '11', 'the envelope names the site and device, seq >= 1, a created time within the skew, and decrypts to the message sent (a leading U+FEFF kept)'),
  deliverSeq: req('deliver.seq', '11.4', 'messages to a device carry seq increasing by one, with distinct ids, written in seq order'),
  deliverResend: req('deliver.resend', '11.4', 'an envelope left unanswered is delivered again later as the same bytes, after its epoch on the new stream'),
  deliverBadAck: req('deliver.bad-ack', '12', 'an ack whose signature fails frees nothing: the envelope is delivered again'),
  deliverBadReceipt: req('deliver.bad-receipt', '15.2', 'a Receipt with no member set aborts the stream and the envelope is delivered again'),
  deliverReject: req('deliver.reject', '15.2', 'a rejected envelope is never sent again'),
  deliverBlocked: req('deliver.blocked', '15.2', 'after BLOCKED the site opens no deliver stream for newly queued messages (it waits the backoff cap)'),
  deliverConnect: req('deliver.connect', '15.2', 'when the device connects again the site delivers at once; a message that expired meanwhile is not sent (spec 11.5)'),
  deliverAckFinal: req('deliver.ack-final', '12', 'an envelope acknowledged with a valid ack is never delivered again'),
  deliverFrames: req('deliver.frames', '5', 'every Push is canonical with one member set, every epoch and envelope opens'),
  postAck: req('post.ack', '15.3', 'a reply is acknowledged by a canonical Receipt{ack} signed by the site over its id, and the site stores it as sent (a leading U+FEFF kept)'),
  postDuplicate: req('post.duplicate', '11.7', 'a reply sent again (on a new stream, twice on one) is acknowledged again and stored once'),
  postDuplicateOrder: req('post.duplicate-order', '11.6', 'a stored id is acknowledged again even expired or not authenticating (step 6), but WRONG_RECIPIENT comes first (step 4)'),
  postVersion: req('post.version', '11.6', 'a header of version 2 is rejected UNSUPPORTED_VERSION'),
  postForm: req('post.form', '11.6', 'seq 0, epoch 0, a ciphertext under 16 bytes and a sender that is no PeerId are rejected BAD_FRAME'),
  postWrongRecipient: req('post.wrong-recipient', '11.6', 'an envelope for another recipient is rejected WRONG_RECIPIENT'),
  postWrongSigner: req('post.wrong-signer', '11.6', 'an envelope naming another sender than the peer is rejected WRONG_SIGNER'),
  postExpired: req('post.expired', '11.6', 'an expired envelope is rejected EXPIRED'),
  postTimestamp: req('post.timestamp', '11.6', 'created 10 min ahead is rejected BAD_TIMESTAMP; 1 min ahead is accepted'),
  postUnknownEpoch: req('post.unknown-epoch', '11.6', 'an envelope under an epoch the site never issued is rejected UNKNOWN_EPOCH'),
  postDecrypt: req('post.decrypt', '11.6', 'a tampered ciphertext, a tampered header and the wrong direction\'s key are rejected DECRYPT_FAILED'),
  postContent: req('post.content', '11.2', 'Content over a limit (subject, body, content_type, thread, reply_to) or not UTF-8 is rejected BAD_FRAME; at the limit it is accepted'),
  postStreamErrors: req('post.stream-errors', '11.6', 'a header that does not decode (a uint32 overflow included), an id not of 16 bytes and a Push{epoch} end the post stream with BAD_FRAME'),
  postOneof: req('post.oneof', '5', 'a Push with no member or two members set ends the stream with BAD_FRAME'),
  postCanonical: req('post.canonical', '5', 'non-canonical Push and Envelope encodings end the stream with BAD_FRAME'),
  postFraming: req('post.framing', '14', 'a post frame above 128 KiB is FRAME_TOO_LARGE, one of 128 KiB is read; a non-minimal prefix and a truncated frame are BAD_FRAME'),
  postNotMember: req('post.not-member', '15.3', 'a post from a peer that is no member device is answered NOT_MEMBER before reading'),
  postWindow: req('post.window', '15.2', 'a full window of 1024 envelopes written at once is answered without WINDOW_EXCEEDED'),
  leaveRefusals: req('leave.refusals', '15.4', 'leaves that do not decode, are badly signed, name another device or site, or are too large get their codes'),
  leaveNotMember: req('leave.not-member', '15.4', 'a valid leave from a peer that is no member device is NOT_MEMBER'),
  leaveOk: req('leave.ok', '15.4', 'a member device\'s leave is answered OK; its posts and leaves are then NOT_MEMBER'),
  removeMember: req('remove.member', '15.4', 'removing a member closes its connections, makes its posts NOT_MEMBER and its unredeemed invites INVITE_UNKNOWN'),
  ...SITE_BLOB_REQUIREMENTS
} as const

/** How long the kit waits for something the site should do soon. */
const SOON_MS = 15_000

export interface SiteSuiteOptions {
  site: Target
  driver: Driver
  reporter: Reporter
  /** Join attempts a peer may make per 60 s before RATE_LIMITED (spec 15.1, configurable). @default 10 */
  joinsPerMinute?: number
}

/** A reply the kit can post: an envelope sealed by `device` under its newest epoch from the site. */
interface Posting {
  device: KitDevice
  seq: number
}

export async function siteUnderTest (opts: SiteSuiteOptions): Promise<void> {
  const { site, driver, reporter } = opts
  const R = SITE_REQUIREMENTS
  const run = async (r: Requirement, fn: () => Promise<void>): Promise<boolean> => await reporter.check('site', r, fn)
  const tag = `kit-${randomBytes(3).toString('hex')}`
  const started: Array<KitDevice | KitPeer> = []
  const device = async (listen = true): Promise<KitDevice> => { const d = await KitDevice.start(site, { listen }); started.push(d); return d }
  const invite = async (ref: string, expiresSeconds = 3600): Promise<string> => {
    const out = await driver.run<{ token?: unknown }>('invite', { ref, expiresSeconds })
    if (typeof out.token !== 'string') throw new Unmet('the driver\'s invite printed no "token"')
    return out.token
  }
  const send = async (subject: string, body: string, ttlSeconds = 3600): Promise<string> => {
    const out = await driver.run<{ id?: unknown }>('send', { to: `${tag}-a`, subject, body, ttlSeconds })
    if (typeof out.id !== 'string') throw new Unmet('the driver\'s send printed no "id"')
    return out.id.toLowerCase()
  }
  const code = async (d: KitDevice, bytes: Uint8Array): Promise<ErrorCode | string> => { const a = await d.joinWith(bytes); return a.code ?? `no answer (${a.end})` }

  try {
    const main = await device()
    let tokenA = ''
    let memberId = ''
    await run(R.joinOk, async () => {
      tokenA = await invite(`${tag}-a`)
      const answer = await main.join(tokenA)
      expectEqual(answer.code, ErrorCode.OK, 'join answer')
      memberId = answer.memberId ?? ''
      const bytes = Buffer.byteLength(memberId)
      expect(bytes >= 1 && bytes <= 128, `member_id of ${bytes} bytes`)
      expect(Buffer.byteLength(answer.siteName ?? '') <= 128, 'site_name over 128 bytes')
      expectEqual(answer.end, 'closed', 'the join stream ends')
    })
    const needToken = (): string => { if (tokenA === '') throw new Unmet('needs join.ok, which failed'); return tokenA }

    await run(R.joinRepeat, async () => {
      const answer = await main.join(needToken())
      expectEqual([answer.code, answer.memberId], [ErrorCode.OK, memberId], 'answer to the same device joining again')
    })
    await run(R.joinUsed, async () => {
      expectEqual((await (await device()).join(needToken())).code, ErrorCode.INVITE_USED, 'another device with a redeemed invite')
    })
    await run(R.joinExpired, async () => {
      const token = await invite(`${tag}-expired`, 1)
      // issued before the driver returned: its 1 s is over 1.2 s later
      await delay(1_200)
      expectEqual((await (await device()).join(token)).code, ErrorCode.EXPIRED, 'an invite issued for 1 s, 1.2 s later')
    })

    const prober = await device()
    const genuine = (): Invite => decodeMessage(Invite, SignedPayload.decode(tokenBytes(needToken())).payload, 'invite')
    const request = (inviteBytes: Uint8Array): Uint8Array => frame(prober.joinRequest('', { invite: inviteBytes }))
    const stranger = Ed25519Signer.generate()
    await run(R.joinWrongSite, async () => {
      const token = createInviteToken(stranger, { addrs: [], secret: new Uint8Array(randomBytes(32)), expires: Date.now() + 60_000 })
      expectEqual(await code(prober, request(tokenBytes(token))), ErrorCode.WRONG_SIGNER, 'an invite signed by and naming another site')
    })
    await run(R.joinBadSignature, async () => {
      const bytes = tokenBytes(needToken())
      const signature = SignedPayload.decode(bytes).signature
      expectEqual(await code(prober, request(withSignature(bytes, flip(signature, 5)))), ErrorCode.BAD_SIGNATURE, 'a signature with one bit flipped')
      expectEqual(await code(prober, request(withSignature(bytes, signature.subarray(1)))), ErrorCode.BAD_SIGNATURE, 'a signature of 63 bytes')
      expectEqual(await code(prober, frame(new Uint8Array(0))), ErrorCode.BAD_SIGNATURE, 'a JoinRequest of 0 bytes')
    })
    await run(R.joinVersion, async () => {
      const v2 = signRaw(stranger, SIGNING_CONTEXT.invite, Invite.encode({ ...genuine(), version: 2 }))
      expectEqual(await code(prober, request(v2)), ErrorCode.UNSUPPORTED_VERSION, 'an invite of version 2 (signed by another key)')
      const wide = signRaw(stranger, SIGNING_CONTEXT.invite, inviteWithVersionBytes(genuine(), UINT32_OVERFLOW_ONE))
      expectEqual(await code(prober, request(wide)), ErrorCode.BAD_FRAME, 'an invite version of 2^32+1')
    })
    await run(R.joinForm, async () => {
      expectEqual(await code(prober, request(concat(tokenBytes(needToken()), Uint8Array.of(0x18, 0x01)))), ErrorCode.BAD_FRAME, 'an invite SignedPayload with an unknown field')
      const addrs = Array.from({ length: 9 }, (_, i) => multiaddr(`/ip4/192.0.2.${i + 1}/tcp/4001`).bytes)
      expectEqual(await code(prober, request(signRaw(stranger, SIGNING_CONTEXT.invite, Invite.encode({ ...genuine(), addrs })))), ErrorCode.BAD_FRAME, 'an invite with 9 addrs')
      expectEqual(await code(prober, request(signRaw(stranger, SIGNING_CONTEXT.invite, Invite.encode({ ...genuine(), site: site.id.subarray(1) } as Invite)))), ErrorCode.BAD_FRAME, 'an invite whose site is 37 bytes')
      expectEqual(await code(prober, frame(Uint8Array.of(0x0a, 0x05, 0x01))), ErrorCode.BAD_FRAME, 'a JoinRequest that does not decode')
    })
    await run(R.joinDeviceKey, async () => {
      const token = await invite(`${tag}-b`)
      const d = await device()
      const other = Ed25519Signer.generate()
      const key = (x25519: Uint8Array): Uint8Array => signDeviceKey(d.peer.signer, x25519, Date.now())
      const ask = async (deviceKey: Uint8Array): Promise<ErrorCode | string> => await code(d, frame(d.joinRequest(token, { deviceKey })))
      expectEqual(await ask(signDeviceKey(other, d.peer.x25519.publicKey, Date.now())), ErrorCode.WRONG_SIGNER, 'a device key of another device')
      expectEqual(await ask(signRaw(other, SIGNING_CONTEXT.deviceKey, DeviceKey.encode({ device: d.peer.id, x25519: d.peer.x25519.publicKey, created: 1 } as DeviceKey))), ErrorCode.BAD_SIGNATURE, 'a device key signed by another key')
      expectEqual(await ask(key(d.peer.x25519.publicKey.subarray(1))), ErrorCode.BAD_FRAME, 'an X25519 key of 31 bytes')
      expectEqual(await ask(key(new Uint8Array(32))), ErrorCode.BAD_FRAME, 'an X25519 key of small order (0)')
      expectEqual((await d.join(token)).code, ErrorCode.OK, 'the same invite with a valid device key afterwards (nothing was recorded)')
    })
    const framer = await device()
    await run(R.joinDeviceName, async () => {
      expectEqual(await code(framer, frame(framer.joinRequest(needToken(), { deviceName: 'é'.repeat(64) + 'n' }))), ErrorCode.BAD_FRAME, 'a device_name of 129 bytes')
      expectEqual(await code(framer, frame(framer.joinRequest(needToken(), { deviceName: 'é'.repeat(64) }))), ErrorCode.INVITE_USED, 'a device_name of 128 bytes, with a redeemed invite')
    })
    await run(R.joinFraming, async () => {
      expectEqual(await code(framer, oversizeFrame(MAX_CONTROL_FRAME_SIZE)), ErrorCode.FRAME_TOO_LARGE, 'a length prefix of 16385')
      const body = framer.joinRequest(needToken())
      // padded to exactly 16384 bytes with an unknown field (field 15), which JoinRequest ignores (spec 17)
      const padding = MAX_CONTROL_FRAME_SIZE - body.byteLength - 4
      const full = concat(body, Uint8Array.of(0x7a), Uint8Array.of((padding & 0x7f) | 0x80, padding >> 7), new Uint8Array(padding), Uint8Array.of(0x00))
      expectEqual(full.byteLength, MAX_CONTROL_FRAME_SIZE, 'the kit\'s 16 KiB frame')
      expectEqual(await code(framer, frame(full.subarray(0, full.byteLength - 1))), ErrorCode.INVITE_USED, 'a JoinRequest frame of 16383 bytes (a redeemed invite, padded)')
      expectEqual(await code(framer, NON_MINIMAL_PREFIX), ErrorCode.BAD_FRAME, 'a non-minimal length prefix')
      expectEqual(await code(framer, new Uint8Array(0)), ErrorCode.BAD_FRAME, 'a stream closed without a frame')
      expectEqual(await code(framer, truncated(frame(body))), ErrorCode.BAD_FRAME, 'a truncated frame')
    })
    await run(R.joinRateLimit, async () => {
      const limit = opts.joinsPerMinute ?? 10
      const flooder = await device()
      const codes: Array<ErrorCode | string> = []
      for (let i = 0; i < limit; i++) codes.push(await code(flooder, frame(Uint8Array.of(0x0a, 0x05, 0x01))))
      expect(!codes.includes(ErrorCode.RATE_LIMITED), `RATE_LIMITED before attempt ${limit + 1}: ${codes.join(', ')}`)
      expectEqual(await code(flooder, frame(flooder.joinRequest(needToken()))), ErrorCode.RATE_LIMITED, `attempt ${limit + 1} within 60 s`)
    })

    // deliveries to the main device
    const sent: Record<string, string> = {}
    const arrivals = (id: string): ReceivedEnvelope[] => main.delivered.filter(d => d.idHex === id)
    const waitArrivals = async (id: string, count: number, timeoutMs = SOON_MS): Promise<ReceivedEnvelope[]> => {
      const deadline = Date.now() + timeoutMs
      while (arrivals(id).length < count && Date.now() < deadline) await delay(50)
      return arrivals(id)
    }
    const subject1 = '\ufeffconformance 1'
    await run(R.deliverEpoch, async () => {
      needToken()
      sent.m1 = await send(subject1, 'body 1')
      const got = await waitArrivals(sent.m1, 1)
      expect(got.length >= 1, `message ${sent.m1} not delivered within ${SOON_MS / 1000} s (${main.streams.length} deliver streams opened)`)
      expect(main.epochs.size > 0, `no key epoch opened: ${main.violations.join('; ')}`)
      expect(main.epochFirst[main.delivered.indexOf(got[0])] === true, 'the envelope came before a Push{epoch} of its epoch on its stream')
    })
    await run(R.deliverEnvelope, async () => {
      const got = arrivals(sent.m1 ?? '')[0]
      if (got === undefined) throw new Unmet('needs deliver.epoch, which failed')
      expect(got.problem === undefined, `it does not open: ${got.problem ?? ''}`)
      expectEqual(hex(got.header.sender), hex(site.id), 'sender')
      expectEqual(hex(got.header.recipient), hex(main.peer.id), 'recipient')
      expect(got.header.seq >= 1, `seq ${got.header.seq}`)
      expect(Math.abs(got.header.created - got.at) <= MAX_CLOCK_SKEW_MS, `created ${got.at - got.header.created} ms before arrival`)
      expect(got.header.expires === 0 || got.header.expires > got.at, 'delivered after its expiry')
      expectEqual([got.content?.subject, got.content?.body], [subject1, 'body 1'], 'subject and body')
    })
    await run(R.deliverSeq, async () => {
      sent.m2 = await send('conformance 2', 'body 2')
      sent.m3 = await send('conformance 3', 'body 3')
      const [a, b, c] = [arrivals(sent.m1 ?? '')[0], (await waitArrivals(sent.m2, 1))[0], (await waitArrivals(sent.m3, 1))[0]]
      expect(a !== undefined && b !== undefined && c !== undefined, 'not all three messages were delivered')
      expectEqual([b.header.seq - a.header.seq, c.header.seq - b.header.seq], [1, 1], 'seq steps')
      expect(main.delivered.indexOf(b) < main.delivered.indexOf(c), 'seq n+2 was written before seq n+1')
    })
    const failedDelivery = async (mode: 'abort' | 'bad-ack' | 'no-member', subject: string): Promise<ReceivedEnvelope[]> => {
      main.mode = mode
      const id = await send(subject, subject)
      const first = await waitArrivals(id, 1)
      main.mode = 'ack'
      expect(first.length >= 1, `not delivered within ${SOON_MS / 1000} s`)
      const again = await waitArrivals(id, 2, 30_000)
      expect(again.length >= 2, 'not delivered again within 30 s')
      expectEqual(hex(again[1].bytes), hex(again[0].bytes), 'the resent envelope\'s bytes')
      return again
    }
    await run(R.deliverResend, async () => {
      const [, second] = await failedDelivery('abort', 'conformance resend')
      expect(main.epochFirst[main.delivered.indexOf(second)] === true, 'on the new stream the envelope came before a Push{epoch} of its epoch')
    })
    await run(R.deliverBadAck, async () => { await failedDelivery('bad-ack', 'conformance bad ack') })
    await run(R.deliverBadReceipt, async () => { await failedDelivery('no-member', 'conformance bad receipt') })
    await run(R.deliverReject, async () => {
      main.mode = 'reject'
      const rejected = await send('conformance rejected', 'x')
      const first = await waitArrivals(rejected, 1)
      main.mode = 'ack'
      expect(first.length === 1, 'the message to reject was not delivered')
      const next = await send('conformance after reject', 'x')
      expect((await waitArrivals(next, 1)).length === 1, 'the next message was not delivered')
      await delay(1_000)
      expectEqual(arrivals(rejected).length, 1, 'deliveries of the rejected envelope')
    })
    let blockedAt = 0
    await run(R.deliverBlocked, async () => {
      await main.closeIdle()
      await delay(300)
      main.mode = 'blocked'
      const streams = main.streams.length
      sent.m9 = await send('conformance while blocked', 'x')
      const deadline = Date.now() + SOON_MS
      while (main.streams.length === streams && Date.now() < deadline) await delay(50)
      expect(main.streams.length > streams, 'the site opened no deliver stream for a new message after an idle close')
      blockedAt = main.streams.length
      sent.expiring = await send('conformance expiring', 'x', 1)
      sent.m10 = await send('conformance queued while blocked', 'x')
      await delay(3_000)
      expectEqual(main.streams.length - blockedAt, 0, 'deliver streams opened within 3 s after BLOCKED')
    })
    await run(R.deliverConnect, async () => {
      if (blockedAt === 0) throw new Unmet('needs deliver.blocked, which failed')
      main.mode = 'ack'
      await main.peer.disconnect(site.peerId)
      await main.peer.connect(site)
      const got = await waitArrivals(sent.m10, 1, 10_000)
      expect(got.length === 1, 'the queued message was not delivered within 10 s of the device connecting')
      await delay(1_000)
      expectEqual(arrivals(sent.expiring).length, 0, 'deliveries of the message whose 1 s TTL passed')
    })
    await run(R.deliverAckFinal, async () => {
      expect(main.acked.size > 0, 'nothing was acknowledged')
      const again = main.violations.filter(v => v.includes('after a valid acknowledgement'))
      expect(again.length === 0, again.join('; '))
    })
    await run(R.deliverFrames, async () => {
      expect(main.delivered.length > 0, 'nothing was delivered')
      expect(main.violations.length === 0, main.violations.join('; '))
    })

    // replies from the main device
    const posting: Posting = { device: main, seq: 0 }
    const newest = (): number => { const n = Math.max(0, ...main.epochs.keys()); if (n === 0) throw new Unmet('needs a key epoch from deliver.epoch, which failed'); return n }
    const header = (fields: Partial<HeaderFields> = {}): HeaderFields => ({
      id: newId(), sender: main.peer.id, recipient: site.id, epoch: newest(), seq: ++posting.seq, created: Date.now(), expires: Date.now() + 3600_000, ...fields
    })
    const replyTo = (): Uint8Array => Buffer.from(sent.m1 ?? '00'.repeat(16), 'hex')
    const body = (c: ContentFields = {}): Uint8Array => content({ subject: 're', body: 'a reply', replyTo: replyTo(), thread: replyTo(), ...c })
    const sealed = (h: HeaderFields, c: Uint8Array = body()): Envelope => seal(main.epochs.get(h.epoch)?.keys.deviceToSite ?? main.epochs.get(newest())!.keys.deviceToSite, h, c)
    const post = async (bytes: Uint8Array, from: KitDevice = main): Promise<Receipts> => {
      const answer = await from.peer.exchange(site, PROTOCOL_POST, bytes)
      return readReceipts(answer, from.peer.id, site.id)
    }
    const acks = async (env: Envelope, what: string): Promise<void> => {
      const r = await post(frame(pushEnvelope(env)))
      expect(r.problems.length === 0 && r.error === undefined && r.rejects.length === 0 && r.acked.includes(idOf(env)), `${what}: ${describeReceipts(r)}`)
    }
    const rejects = async (env: Envelope, expected: ErrorCode, what: string): Promise<void> => {
      const r = await post(frame(pushEnvelope(env)))
      expect(r.acked.length === 0 && r.error === undefined && r.rejects.length === 1 && r.rejects[0].code === expected && r.rejects[0].idHex === idOf(env),
        `${what}: expected a reject ${expected}, got ${describeReceipts(r)}`)
    }
    const streamError = async (from: KitDevice, bytes: Uint8Array, expected: ErrorCode, what: string): Promise<void> => {
      const r = await post(bytes, from)
      expect(r.error === expected && r.acked.length === 0, `${what}: expected stream error ${expected}, got ${describeReceipts(r)}`)
    }
    const replies = async (): Promise<Array<{ id: string, subject?: string, body?: string, replyTo?: string }>> => {
      const out = await driver.run<{ replies?: unknown }>('replies')
      if (!Array.isArray(out.replies)) throw new Unmet('the driver\'s replies printed no "replies" array')
      return out.replies as Array<{ id: string }>
    }
    let r1: Envelope | undefined
    const needR1 = (): Envelope => { if (r1 === undefined) throw new Unmet('needs post.ack, which failed'); return r1 }
    await run(R.postAck, async () => {
      r1 = sealed(header(), body({ subject: '\ufeffre: conformance', body: 'reply 1' }))
      const r = await post(frame(pushEnvelope(r1)))
      expect(r.problems.length === 0, r.problems.join('; '))
      expect(r.acks >= 1 && r.acked.every(id => id === idOf(needR1())) && r.acked.includes(idOf(needR1())), `answer: ${describeReceipts(r)}`)
      expectEqual(r.end, 'closed', 'the post stream ends')
      const stored = (await replies()).filter(x => x.id.toLowerCase() === idOf(needR1()))
      expectEqual(stored.map(x => [x.subject, x.body, x.replyTo?.toLowerCase()]), [['\ufeffre: conformance', 'reply 1', sent.m1]], 'the reply as the driver lists it')
    })
    await run(R.postDuplicate, async () => {
      await acks(needR1(), 'the same reply on a new stream')
      const twice = await post(framed(pushEnvelope(needR1()), pushEnvelope(needR1())))
      expect(twice.acked.includes(idOf(needR1())) && twice.error === undefined && twice.rejects.length === 0, `the same reply twice on one stream: ${describeReceipts(twice)}`)
      expectEqual((await replies()).filter(x => x.id.toLowerCase() === idOf(needR1())).length, 1, 'copies of the reply the site stored')
    })
    await run(R.postDuplicateOrder, async () => {
      const stored = needR1()
      await acks(envelopeOf(stored.header, flip(stored.ciphertext, -1)), 'the stored id with a tampered ciphertext')
      const id = Buffer.from(idOf(stored), 'hex')
      await acks(sealed(header({ id, expires: Date.now() - 1_000 })), 'the stored id, expired')
      await acks(sealed(header({ id, epoch: newest() + 1_000 })), 'the stored id under an epoch never issued')
      await rejects(sealed(header({ id, recipient: main.peer.id })), ErrorCode.WRONG_RECIPIENT, 'the stored id for another recipient')
    })
    await run(R.postVersion, async () => { await rejects(sealed(header({ version: 2 })), ErrorCode.UNSUPPORTED_VERSION, 'version 2') })
    await run(R.postForm, async () => {
      await rejects(sealed(header({ seq: 0 })), ErrorCode.BAD_FRAME, 'seq 0')
      await rejects(sealed(header({ epoch: 0 })), ErrorCode.BAD_FRAME, 'epoch 0')
      const h = header()
      await rejects(envelopeOf(encodeHeader(h), new Uint8Array(15)), ErrorCode.BAD_FRAME, 'a ciphertext of 15 bytes')
      await rejects(sealed(header({ sender: main.peer.id.subarray(1) })), ErrorCode.BAD_FRAME, 'a sender of 37 bytes')
    })
    await run(R.postWrongRecipient, async () => { await rejects(sealed(header({ recipient: main.peer.id })), ErrorCode.WRONG_RECIPIENT, 'for the device itself') })
    await run(R.postWrongSigner, async () => { await rejects(sealed(header({ sender: Ed25519Signer.generate().peerId })), ErrorCode.WRONG_SIGNER, 'naming another sender') })
    await run(R.postExpired, async () => { await rejects(sealed(header({ expires: Date.now() - 1_000 })), ErrorCode.EXPIRED, 'expired 1 s ago') })
    await run(R.postTimestamp, async () => {
      await rejects(sealed(header({ created: Date.now() + 600_000 })), ErrorCode.BAD_TIMESTAMP, 'created 10 min ahead')
      await acks(sealed(header({ created: Date.now() + 60_000 })), 'created 1 min ahead')
    })
    await run(R.postUnknownEpoch, async () => { await rejects(sealed(header({ epoch: newest() + 1_000 })), ErrorCode.UNKNOWN_EPOCH, 'an epoch never issued') })
    await run(R.postDecrypt, async () => {
      const env = sealed(header())
      await rejects(envelopeOf(env.header, flip(env.ciphertext, 0)), ErrorCode.DECRYPT_FAILED, 'a tampered ciphertext')
      const h = header()
      const good = sealed(h)
      await rejects(envelopeOf(encodeHeader({ ...h, created: (h.created ?? 0) - 1 }), good.ciphertext), ErrorCode.DECRYPT_FAILED, 'a tampered header')
      const h2 = header()
      await rejects(seal(main.epochs.get(newest())!.keys.siteToDevice, h2, body()), ErrorCode.DECRYPT_FAILED, 'sealed with the site-to-device key')
    })
    await run(R.postContent, async () => {
      const over: Array<[string, Uint8Array]> = [
        ['a subject of 1025 bytes', body({ subject: 's'.repeat(1025) })],
        ['a body of 65537 bytes', body({ body: 'b'.repeat(65537) })],
        ['a content_type of 129 bytes', body({ contentType: 't'.repeat(129) })],
        ['a thread of 15 bytes', body({ thread: new Uint8Array(15) })],
        ['a reply_to of 17 bytes', body({ replyTo: new Uint8Array(17) })],
        ['a subject that is not UTF-8', contentWithSubjectBytes(Uint8Array.of(0x61, 0xff, 0xfe))]
      ]
      for (const [what, c] of over) await rejects(sealed(header(), c), ErrorCode.BAD_FRAME, what)
      await acks(sealed(header(), body({ subject: 's'.repeat(1024), contentType: 't'.repeat(128) })), 'a subject of 1024 bytes and a content_type of 128')
    })

    const rough = await device()
    const roughToken = await invite(`${tag}-rough`)
    expectJoined(await rough.join(roughToken), 'the kit\'s second device')
    const anyEnvelope = (): Envelope => envelopeOf(encodeHeader({ id: newId(), sender: rough.peer.id, recipient: site.id, epoch: 1, seq: 1 }), new Uint8Array(32))
    await run(R.postStreamErrors, async () => {
      await streamError(rough, frame(pushEnvelope(envelopeOf(Uint8Array.of(0x12, 0x7f), new Uint8Array(32)))), ErrorCode.BAD_FRAME, 'a header that does not decode')
      const env = anyEnvelope()
      await streamError(rough, frame(pushEnvelope(envelopeOf(withVersionBytes(env.header, UINT32_OVERFLOW_ONE), env.ciphertext))), ErrorCode.BAD_FRAME, 'a header version of 2^32+1')
      await streamError(rough, frame(pushEnvelope(envelopeOf(encodeHeader({ id: new Uint8Array(15), sender: rough.peer.id, recipient: site.id, epoch: 1, seq: 1 }), env.ciphertext))), ErrorCode.BAD_FRAME, 'an id of 15 bytes')
      await streamError(rough, frame(pushEpoch(signRaw(rough.peer.signer, SIGNING_CONTEXT.keyEpoch, new Uint8Array(0)))), ErrorCode.BAD_FRAME, 'a Push{epoch} on a post stream')
    })
    await run(R.postOneof, async () => {
      await streamError(rough, frame(new Uint8Array(0)), ErrorCode.BAD_FRAME, 'a Push with no member set')
      await streamError(rough, frame(pushWithTwoMembers(anyEnvelope())), ErrorCode.BAD_FRAME, 'a Push with two members set')
    })
    await run(R.postCanonical, async () => {
      for (const [what, bytes] of nonCanonicalPushes(anyEnvelope())) await streamError(rough, frame(bytes), ErrorCode.BAD_FRAME, what)
    })
    await run(R.postFraming, async () => {
      await streamError(rough, oversizeFrame(MAX_FRAME_SIZE), ErrorCode.FRAME_TOO_LARGE, 'a length prefix of 131073')
      const env = anyEnvelope()
      const empty = pushEnvelope(envelopeOf(env.header, new Uint8Array(0))).byteLength
      // a ciphertext that makes the Push exactly 131072 bytes (its length varint grows from 1 to 3 bytes)
      const full = pushEnvelope(envelopeOf(env.header, new Uint8Array(MAX_FRAME_SIZE - empty - 4)))
      const fitted = full.byteLength === MAX_FRAME_SIZE ? full : pushEnvelope(envelopeOf(env.header, new Uint8Array(MAX_FRAME_SIZE - empty - 4 + MAX_FRAME_SIZE - full.byteLength)))
      expectEqual(fitted.byteLength, MAX_FRAME_SIZE, 'the kit\'s 128 KiB frame')
      const r = await post(frame(fitted), rough)
      expect(r.error === undefined && r.rejects.length === 1, `a frame of 131072 bytes is read (a reject expected): ${describeReceipts(r)}`)
      await streamError(rough, NON_MINIMAL_PREFIX, ErrorCode.BAD_FRAME, 'a non-minimal length prefix')
      await streamError(rough, truncated(frame(pushEnvelope(anyEnvelope()))), ErrorCode.BAD_FRAME, 'a truncated frame')
    })
    await run(R.postNotMember, async () => {
      const outsider = await device()
      const r = await post(frame(pushEnvelope(anyEnvelope())), outsider)
      expect(r.error === ErrorCode.NOT_MEMBER && r.acks === 0 && r.rejects.length === 0, `expected NOT_MEMBER, got ${describeReceipts(r)}`)
    })
    await run(R.postWindow, async () => {
      const copies = Array.from({ length: 1024 }, () => pushEnvelope(needR1()))
      const r = await post(framed(...copies))
      expect(r.error === undefined && r.rejects.length === 0 && r.acked.includes(idOf(needR1())) && r.problems.length === 0, `1024 envelopes at once: ${describeReceipts(r)}`)
    })

    await siteBlobs({
      site,
      driver,
      run,
      main,
      to: `${tag}-a`,
      joined: async () => {
        const d = await device()
        expectJoined(await d.join(await invite(`${tag}-blob-${randomBytes(3).toString('hex')}`)), 'a device fetching blobs')
        return d
      },
      stranger: async () => await device()
    })

    const leaver = await device()
    const leave = async (from: KitDevice, bytes: Uint8Array): Promise<ErrorCode | string> => {
      const answer = await from.peer.exchange(site, PROTOCOL_LEAVE, bytes)
      return answer.frames.length === 0 ? `no answer (${answer.end})` : codeFromWire(decodeMessage(Result, answer.frames[0], 'result').code)
    }
    const leaveOf = (signer: Ed25519Signer, fields: { site?: Uint8Array, device?: Uint8Array }): Uint8Array =>
      frame(signRaw(signer, SIGNING_CONTEXT.leave, Leave.encode({ site: fields.site ?? site.id, device: fields.device ?? leaver.peer.id, time: Date.now() } as Leave)))
    await run(R.leaveRefusals, async () => {
      expectJoined(await leaver.join(await invite(`${tag}-leaver`)), 'the leaving device')
      const valid = signLeave(leaver.peer.signer, site.id, Date.now())
      expectEqual(await leave(leaver, frame(Uint8Array.of(0x0a, 0x05, 0x01))), ErrorCode.BAD_FRAME, 'a leave that does not decode')
      expectEqual(await leave(leaver, frame(withSignature(valid, new Uint8Array(63)))), ErrorCode.BAD_SIGNATURE, 'a signature of 63 bytes')
      expectEqual(await leave(leaver, leaveOf(leaver.peer.signer, { device: Ed25519Signer.generate().peerId })), ErrorCode.WRONG_SIGNER, 'naming another device')
      expectEqual(await leave(leaver, leaveOf(leaver.peer.signer, { site: Ed25519Signer.generate().peerId })), ErrorCode.WRONG_RECIPIENT, 'naming another site')
      expectEqual(await leave(leaver, leaveOf(Ed25519Signer.generate(), {})), ErrorCode.BAD_SIGNATURE, 'signed by another key')
      expectEqual(await leave(leaver, oversizeFrame(MAX_CONTROL_FRAME_SIZE)), ErrorCode.FRAME_TOO_LARGE, 'a length prefix of 16385')
    })
    await run(R.leaveNotMember, async () => {
      const outsider = await device()
      expectEqual(await leave(outsider, frame(signLeave(outsider.peer.signer, site.id, Date.now()))), ErrorCode.NOT_MEMBER, 'a valid leave from a non-member')
    })
    await run(R.leaveOk, async () => {
      expectEqual(await leave(leaver, frame(signLeave(leaver.peer.signer, site.id, Date.now()))), ErrorCode.OK, 'the member device\'s leave')
      // the site may close its connections to a device that left (spec 15.4): the kit dials anew
      await leaver.peer.disconnect(site.peerId)
      const r = await post(frame(pushEnvelope(anyEnvelope())), leaver)
      expectEqual(r.error, ErrorCode.NOT_MEMBER, 'its post afterwards')
      expectEqual(await leave(leaver, frame(signLeave(leaver.peer.signer, site.id, Date.now()))), ErrorCode.NOT_MEMBER, 'its second leave')
    })
    await run(R.removeMember, async () => {
      if (!driver.has('remove-member')) await driver.run('remove-member')
      const ref = `${tag}-removed`
      const removed = await device()
      expectJoined(await removed.join(await invite(ref)), 'the device to remove')
      const unredeemed = await invite(ref)
      await driver.run('remove-member', { ref })
      const deadline = Date.now() + 5_000
      while (removed.peer.libp2p.getConnections().some(c => c.remotePeer.toString() === site.peerId) && Date.now() < deadline) await delay(50)
      expect(!removed.peer.libp2p.getConnections().some(c => c.remotePeer.toString() === site.peerId), 'the site kept its connection to the removed device for 5 s')
      expectEqual((await post(frame(pushEnvelope(anyEnvelope())), removed)).error, ErrorCode.NOT_MEMBER, 'a post of the removed device')
      expectEqual((await (await device()).join(unredeemed)).code, ErrorCode.INVITE_UNKNOWN, 'an invite for the removed member\'s ref, issued before the removal')
    })
  } finally {
    for (const s of started) await s.stop().catch(() => {})
  }
}

function idOf (env: Envelope): string {
  return hex(EnvelopeHeader.decode(env.header).id)
}

function expectJoined (answer: { code?: ErrorCode, end: string }, what: string): void {
  if (answer.code !== ErrorCode.OK) throw new Unmet(`${what} could not join: ${answer.code ?? answer.end}`)
}
