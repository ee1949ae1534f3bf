import assert from 'node:assert/strict'
import fc from 'fast-check'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { openAck, signAck } from '../../src/crypto/ack.js'
import { openDeviceKey, signDeviceKey } from '../../src/crypto/device-key.js'
import { decodeContent, decryptEnvelope, encodeContent, messageNonce, parseEnvelope, sealEnvelope, type ParsedEnvelope } from '../../src/crypto/envelope.js'
import { createKeyEpoch, openKeyEpoch, type EpochKeys, type OpenEpochOptions } from '../../src/crypto/epoch.js'
import { createInviteToken, openInvite, parseInviteToken } from '../../src/crypto/invite.js'
import { openLeave, signLeave } from '../../src/crypto/leave.js'
import { signMessage, signPayload } from '../../src/crypto/signing.js'
import { MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { FrameDecoder, decodeFrames, encodeFrames } from '../../src/protocol/framing.js'
import { decodeCanonical, decodeMessage } from '../../src/protocol/messages.js'
import { AckBody, Content, DeviceKey, Envelope, EnvelopeHeader, Invite, KeyEpoch, Leave, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import * as arb from '../support/arbitraries.js'
import { onlyTmtpErrors, onlyTmtpRejections } from '../support/assertions.js'
import { device, deviceX25519, messageId, site } from '../support/keys.js'

/**
 * Every decoder the protocol and crypto layers expose, fed untrusted input: random bytes,
 * valid inputs with random damage, and structurally valid messages with random field values,
 * signed by the right key so that the checks after the signature run too. Each may succeed
 * or throw a TmtpError, nothing else, and always returns.
 */

type B = Uint8Array<ArrayBuffer>

const NOW = 1_750_000_000_000
const RUNS = 200

/** Random bytes, and the given valid examples with a few bytes changed, cut or added. */
function damaged (valid: Uint8Array[], maxLength = 300): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({ kind: fc.constantFrom('set', 'xor', 'cut', 'insert', 'delete'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) })
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.tuple(fc.constantFrom(...valid), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([bytes, edits]) => {
      let out = [...bytes]
      for (const e of edits) {
        const at = e.at % (out.length + 1)
        if (e.kind === 'set' && at < out.length) out[at] = e.value
        else if (e.kind === 'xor' && at < out.length) out[at] ^= e.value
        else if (e.kind === 'cut') out = out.slice(0, at)
        else if (e.kind === 'insert') out.splice(at, 0, e.value)
        else out.splice(at, 1)
      }
      return Uint8Array.from(out)
    })
  )
}

/** Random payload bytes, and random messages of `codec`'s shape, signed by `signer` under `context`. */
function signedByRightKey<T> (arbitrary: fc.Arbitrary<T>, codec: { encode: (v: T) => Uint8Array }, context: typeof SIGNING_CONTEXT[keyof typeof SIGNING_CONTEXT], signer = site): fc.Arbitrary<Uint8Array> {
  return fc.oneof(fc.uint8Array({ maxLength: 200 }), arbitrary.map(v => codec.encode(v)))
    .map(payload => SignedPayload.encode(signPayload(signer, context, payload)))
}

const peer = (): fc.Arbitrary<B> => fc.oneof(fc.constantFrom(site.peerId as B, device.peerId as B), arb.bytes(40))

describe('decoders fed untrusted input (properties)', () => {
  let keys: EpochKeys
  let signedEpoch: Uint8Array
  const atDevice: OpenEpochOptions = { site: site.peerId, device: device.peerId, devicePrivateKey: deviceX25519.privateKey }

  before(async () => {
    const made = await createKeyEpoch({ site, device: device.peerId, deviceX25519: deviceX25519.publicKey, epoch: 1, created: NOW, expires: NOW + 1000, ephemeralIkm: new Uint8Array(32).fill(7) })
    keys = made.keys
    signedEpoch = made.signed
  })

  it('decodeMessage and decodeCanonical on every codec of the proto', () => {
    for (const { name, codec } of arb.ALL_CODECS) {
      const valid = fc.sample(arb.CODEC_CASES.find(c => c.codec === codec)?.arbitrary() ?? fc.constant({}), { numRuns: 20, seed: 1 }).map(v => codec.encode(v))
      fc.assert(fc.property(damaged(valid), bytes => {
        onlyTmtpErrors(() => decodeMessage(codec, bytes, name))
        onlyTmtpErrors(() => decodeMessage(codec, bytes, name, { limits: { addrs: 8, ids: 1024 } }))
        onlyTmtpErrors(() => decodeCanonical(codec, bytes, name))
      }), { numRuns: 150 })
    }
  })

  it('FrameDecoder.push with any chunking, then end(), and decodeFrames', () => {
    const valid = [encodeFrames([new Uint8Array(3), new Uint8Array(200)]), encodeFrames([new Uint8Array(0)])]
    fc.assert(fc.property(damaged(valid), fc.array(fc.nat({ max: 400 }), { maxLength: 8 }), fc.constantFrom(16, 300, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE), (bytes, cuts, max) => {
      const decoder = new FrameDecoder(max)
      const err = onlyTmtpErrors(() => {
        for (const chunk of arb.splitAt(bytes, cuts)) decoder.push(chunk)
        decoder.end()
      })
      const whole = onlyTmtpErrors(() => decodeFrames(bytes, max))
      assert.equal(err?.code, whole?.code)
    }), { numRuns: RUNS })
  })

  it('parseInviteToken on any string and on damaged valid tokens', () => {
    const token = createInviteToken(site, { addrs: [new Uint8Array(8)], secret: new Uint8Array(32), expires: NOW + 1000, ref: 'r' })
    const body = token.slice(6)
    const strings = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: fc.constantFrom(...'tmp1:AZaz09-_= \n+/'), maxLength: 80 }),
      fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_'), maxLength: 120 }).map(s => `tmtp1:${s}`),
      damaged([Buffer.from(body, 'utf8')], 0).map(b => `tmtp1:${Buffer.from(b).toString('latin1')}`),
      damaged([SignedPayload.decode(Buffer.from(body, 'base64url')).payload], 0).map(b => `tmtp1:${uint8ArrayToString(b, 'base64url')}`)
    )
    fc.assert(fc.property(strings, text => {
      onlyTmtpErrors(() => parseInviteToken(text, NOW))
    }), { numRuns: 400 })
  })

  it('openInvite', () => {
    const valid = parseInviteToken(createInviteToken(site, { addrs: [], secret: new Uint8Array(32), expires: NOW + 1000 }), NOW).signed
    const input = fc.oneof(damaged([valid]), signedByRightKey(arb.invite(), Invite, SIGNING_CONTEXT.invite))
    fc.assert(fc.property(input, fc.boolean(), (bytes, asSite) => {
      onlyTmtpErrors(() => openInvite(bytes, asSite ? site.peerId : undefined, NOW))
    }), { numRuns: RUNS })
  })

  it('openDeviceKey', () => {
    const valid = signDeviceKey(device, deviceX25519.publicKey, NOW)
    const input = fc.oneof(damaged([valid]), signedByRightKey(arb.deviceKey().map(k => ({ ...k, device: device.peerId as B })), DeviceKey, SIGNING_CONTEXT.deviceKey, device))
    fc.assert(fc.property(input, bytes => {
      onlyTmtpErrors(() => openDeviceKey(bytes, device.peerId))
    }), { numRuns: RUNS })
  })

  it('openKeyEpoch', async () => {
    // half of them well formed up to the HPKE step, with a random enc
    const epoch = fc.tuple(arb.keyEpoch(), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean())
      .map(([e, enc, wellFormed]) => ({ ...e, site: site.peerId as B, device: device.peerId as B, ...(wellFormed ? { enc, epoch: Math.max(e.epoch, 1) } : {}) }))
    const input = fc.oneof(damaged([signedEpoch]), signedByRightKey(epoch, KeyEpoch, SIGNING_CONTEXT.keyEpoch))
    await fc.assert(fc.asyncProperty(input, async bytes => {
      await onlyTmtpRejections(async () => await openKeyEpoch(bytes, atDevice))
    }), { numRuns: 150 })
  })

  it('openAck', () => {
    const valid = signAck(device, site.peerId, [messageId(1), messageId(2)], NOW)
    const ids = fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 1, maxLength: 8 })
    const ack = fc.tuple(arb.ackBody(), ids, fc.boolean())
      .map(([a, wellFormedIds, wellFormed]) => ({ ...a, sender: site.peerId as B, receiver: device.peerId as B, ...(wellFormed ? { ids: wellFormedIds } : {}) }))
    const input = fc.oneof(damaged([valid]), signedByRightKey(ack, AckBody, SIGNING_CONTEXT.ack, device))
    fc.assert(fc.property(input, bytes => {
      onlyTmtpErrors(() => openAck(bytes, site.peerId, device.peerId))
    }), { numRuns: RUNS })
  })

  it('openLeave', () => {
    const valid = signLeave(device, site.peerId, NOW)
    const leave = fc.record({ site: peer(), device: fc.constant(device.peerId as B), time: arb.uint64() })
    const input = fc.oneof(damaged([valid]), signedByRightKey(leave, Leave, SIGNING_CONTEXT.leave, device))
    fc.assert(fc.property(input, bytes => {
      onlyTmtpErrors(() => openLeave(bytes, site.peerId, device.peerId))
    }), { numRuns: RUNS })
  })

  it('parseEnvelope, then decryptEnvelope', () => {
    const header: EnvelopeHeader = { version: 1, id: messageId(1), sender: site.peerId as B, recipient: device.peerId as B, epoch: 1, seq: 1, created: NOW, expires: 0 }
    const valid = sealEnvelope(keys.siteToDevice, header, encodeContent({ subject: 's', body: 'b' }))
    const headers = fc.tuple(arb.envelopeHeader(), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean())
      .map(([h, id, wellFormed]) => ({ ...h, version: 1, sender: site.peerId as B, recipient: device.peerId as B, ...(wellFormed ? { id, seq: Math.max(h.seq, 1), epoch: Math.max(h.epoch, 1) } : {}) }))
    const forged = fc.record({ header: fc.oneof(headers.map(h => EnvelopeHeader.encode(h)), arb.bytes(120)), ciphertext: arb.bytes(80) }).map(e => Envelope.encode(e))
    fc.assert(fc.property(fc.oneof(damaged([valid]), forged), bytes => {
      let parsed: ParsedEnvelope | undefined
      const err = onlyTmtpErrors(() => { parsed = parseEnvelope(bytes) })
      if (err === undefined && parsed !== undefined) {
        const got = parsed
        onlyTmtpErrors(() => decryptEnvelope(keys.siteToDevice, got))
      }
    }), { numRuns: 300 })
  })

  it('decryptEnvelope of any plaintext that authenticates, and decodeContent', () => {
    const header: EnvelopeHeader = { version: 1, id: messageId(1), sender: site.peerId as B, recipient: device.peerId as B, epoch: 1, seq: 5, created: NOW, expires: 0 }
    const headerBytes = EnvelopeHeader.encode(header)
    const validContent = Content.encode({ subject: 'é', body: 'body', contentType: 'text/plain', thread: messageId(2), replyTo: new Uint8Array(0) })
    const plaintexts = fc.oneof(damaged([validContent]), arb.content().map(c => Content.encode(c)))
    fc.assert(fc.property(plaintexts, plaintext => {
      onlyTmtpErrors(() => decodeContent(plaintext))
      const ciphertext = keys.siteToDevice.aead.seal(messageNonce(keys.siteToDevice.baseNonce, header.seq), headerBytes, plaintext)
      onlyTmtpErrors(() => decryptEnvelope(keys.siteToDevice, { header, headerBytes, ciphertext }))
    }), { numRuns: 300 })
  })

  it('signed messages of one kind presented as another never open', () => {
    const leave = signLeave(device, site.peerId, NOW)
    const ack = signAck(device, site.peerId, [messageId(1)], NOW)
    const key = signDeviceKey(device, deviceX25519.publicKey, NOW)
    const all = [leave, ack, key, signedEpoch, signMessage(site, SIGNING_CONTEXT.invite, Invite, { version: 1, site: site.peerId as B, addrs: [], secret: new Uint8Array(32), expires: NOW + 1, ref: '', siteName: '' })]
    for (const bytes of all) {
      if (bytes !== leave) assert.ok(onlyTmtpErrors(() => openLeave(bytes, site.peerId, device.peerId)))
      if (bytes !== ack) assert.ok(onlyTmtpErrors(() => openAck(bytes, site.peerId, device.peerId)))
      if (bytes !== key) assert.ok(onlyTmtpErrors(() => openDeviceKey(bytes, device.peerId)))
      if (bytes !== all[4]) assert.ok(onlyTmtpErrors(() => openInvite(bytes, site.peerId, NOW)))
    }
  })
})
