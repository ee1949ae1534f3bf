import assert from 'node:assert/strict'
import fc from 'fast-check'
import { checkEnvelopeHeader, decodeContent, decryptContent, decryptEnvelope, encodeContent, messageNonce, parseEnvelope, sealEnvelope, sealEnvelopeMessage, sealPushFrame, type CheckEnvelopeOptions } from '../../src/crypto/envelope.js'
import { createKeyEpoch, openKeyEpoch, type DirectionKey, type EpochKeys } from '../../src/crypto/epoch.js'
import { DEFAULT_CONTENT_TYPE, DEFAULT_MEDIA_TYPE, MAX_BODY_BYTES, MAX_CLOCK_SKEW_MS, MAX_GROUP_NAME_BYTES, MAX_SUBJECT_BYTES } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { Content, Envelope, EnvelopeHeader, Push } from '../../src/protocol/pb/tmtp.js'
import { flipBit, throwsTmtp, onlyTmtpErrors } from '../support/assertions.js'
import { device, deviceX25519, messageId, otherDevice, otherSite, site } from '../support/keys.js'

type B = Uint8Array<ArrayBuffer>

const NOW = 1_750_000_000_000
const HOUR = 3_600_000

function siteHeader (overrides: Partial<EnvelopeHeader> = {}): EnvelopeHeader {
  return { version: 1, id: messageId(0x01), sender: site.peerId as B, recipient: device.peerId as B, epoch: 1, seq: 1, created: NOW, expires: NOW + HOUR, ...overrides }
}

function deviceHeader (overrides: Partial<EnvelopeHeader> = {}): EnvelopeHeader {
  return siteHeader({ sender: device.peerId as B, recipient: site.peerId as B, ...overrides })
}

const AT_DEVICE: CheckEnvelopeOptions = { sender: site.peerId, recipient: device.peerId, now: NOW }
const AT_SITE: CheckEnvelopeOptions = { sender: device.peerId, recipient: site.peerId, now: NOW }

/** What a receiver does with an envelope frame, in the order of spec "Receiving an envelope". */
function receive (bytes: Uint8Array, key: DirectionKey, opts: CheckEnvelopeOptions): Content {
  const parsed = parseEnvelope(bytes)
  checkEnvelopeHeader(parsed.header, opts)
  return decryptEnvelope(key, parsed)
}

/** Seals raw plaintext under raw header bytes, bypassing every check of sealEnvelope. */
function sealRaw (key: DirectionKey, headerBytes: Uint8Array, seq: number, plaintext: Uint8Array): Uint8Array {
  return Envelope.encode({ header: headerBytes as B, ciphertext: key.aead.seal(messageNonce(key.baseNonce, seq), headerBytes, plaintext) })
}

/** Where the value of each field of a small encoded Envelope lies (tag and one length byte before each). */
function envelopeLayout (bytes: Uint8Array): { header: [number, number], ciphertext: [number, number] } {
  const env = Envelope.decode(bytes)
  assert.ok(bytes[0] === 0x0a && env.header.byteLength < 128 && env.ciphertext.byteLength < 128, 'a small envelope')
  const headerStart = 2
  const ciphertextStart = headerStart + env.header.byteLength + 2
  assert.deepEqual(bytes.subarray(headerStart, headerStart + env.header.byteLength), env.header)
  assert.deepEqual(bytes.subarray(ciphertextStart), env.ciphertext)
  return { header: [headerStart, headerStart + env.header.byteLength], ciphertext: [ciphertextStart, bytes.byteLength] }
}

const TAMPER_CODES = [
  ErrorCode.DECRYPT_FAILED, ErrorCode.BAD_FRAME, ErrorCode.UNSUPPORTED_VERSION, ErrorCode.WRONG_RECIPIENT,
  ErrorCode.WRONG_SIGNER, ErrorCode.EXPIRED, ErrorCode.BAD_TIMESTAMP
]

describe('crypto/envelope', () => {
  let siteKeys: EpochKeys
  let deviceKeys: EpochKeys
  let otherEpochKeys: EpochKeys

  before(async () => {
    const made = await createKeyEpoch({ site, device: device.peerId, deviceX25519: deviceX25519.publicKey, epoch: 1, created: NOW, expires: NOW + HOUR, ephemeralIkm: new Uint8Array(32).fill(0x11) })
    siteKeys = made.keys
    deviceKeys = (await openKeyEpoch(made.signed, { site: site.peerId, device: device.peerId, devicePrivateKey: deviceX25519.privateKey })).keys
    otherEpochKeys = (await createKeyEpoch({ site, device: device.peerId, deviceX25519: deviceX25519.publicKey, epoch: 2, created: NOW, expires: NOW + HOUR })).keys
  })

  describe('seal and open', () => {
    it('site to device: sealed with siteToDevice, opened by the device', () => {
      const bytes = sealEnvelope(siteKeys.siteToDevice, siteHeader(), encodeContent({ subject: 'Hello', body: 'from the site' }))
      const content = receive(bytes, deviceKeys.siteToDevice, AT_DEVICE)
      assert.deepStrictEqual(content, { subject: 'Hello', body: 'from the site', contentType: DEFAULT_CONTENT_TYPE, thread: new Uint8Array(0), replyTo: new Uint8Array(0), group: '', attachments: [] })
    })

    it('device to site: sealed with deviceToSite, opened by the site', () => {
      const thread = messageId(0x77)
      const bytes = sealEnvelope(deviceKeys.deviceToSite, deviceHeader({ seq: 9 }), encodeContent({ body: 'a reply', contentType: 'text/plain', thread, replyTo: thread }))
      const content = receive(bytes, siteKeys.deviceToSite, AT_SITE)
      assert.equal(content.body, 'a reply')
      assert.equal(content.contentType, 'text/plain')
      assert.deepEqual(content.thread, thread)
      assert.deepEqual(content.replyTo, thread)
    })

    it('refuses the key of the other direction (DECRYPT_FAILED)', () => {
      const down = sealEnvelope(siteKeys.siteToDevice, siteHeader(), encodeContent({ body: 'x' }))
      throwsTmtp(() => receive(down, deviceKeys.deviceToSite, AT_DEVICE), ErrorCode.DECRYPT_FAILED)
      const up = sealEnvelope(deviceKeys.deviceToSite, deviceHeader(), encodeContent({ body: 'x' }))
      throwsTmtp(() => receive(up, siteKeys.siteToDevice, AT_SITE), ErrorCode.DECRYPT_FAILED)
    })

    it('refuses the keys of another epoch (DECRYPT_FAILED)', () => {
      const bytes = sealEnvelope(siteKeys.siteToDevice, siteHeader(), encodeContent({ body: 'x' }))
      throwsTmtp(() => receive(bytes, otherEpochKeys.siteToDevice, AT_DEVICE), ErrorCode.DECRYPT_FAILED)
    })

    it('gives the header back exactly as sent, with its bytes', () => {
      const header = siteHeader({ seq: 2 ** 40, epoch: 7, expires: 0 })
      const parsed = parseEnvelope(sealEnvelope(siteKeys.siteToDevice, header, encodeContent({})))
      assert.deepStrictEqual(parsed.header, header)
      assert.deepEqual(parsed.headerBytes, EnvelopeHeader.encode(header))
    })

    it('seals empty content into a tag-only ciphertext that opens to the defaults', () => {
      const bytes = sealEnvelope(siteKeys.siteToDevice, siteHeader(), encodeContent({}))
      assert.equal(parseEnvelope(bytes).ciphertext.byteLength, 16)
      assert.deepStrictEqual(receive(bytes, deviceKeys.siteToDevice, AT_DEVICE), { subject: '', body: '', contentType: DEFAULT_CONTENT_TYPE, thread: new Uint8Array(0), replyTo: new Uint8Array(0), group: '', attachments: [] })
    })

    it('parses an Envelope already decoded from a Push frame', () => {
      const bytes = sealEnvelope(siteKeys.siteToDevice, siteHeader(), encodeContent({ body: 'pushed' }))
      const push = Push.decode(Push.encode({ envelope: Envelope.decode(bytes) }))
      assert.ok(push.envelope !== undefined)
      assert.equal(decryptEnvelope(deviceKeys.siteToDevice, parseEnvelope(push.envelope)).body, 'pushed')
    })

    it('seals the same content differently for every seq', () => {
      const content = encodeContent({ body: 'same' })
      const a = parseEnvelope(sealEnvelope(siteKeys.siteToDevice, siteHeader({ seq: 1 }), content)).ciphertext
      const b = parseEnvelope(sealEnvelope(siteKeys.siteToDevice, siteHeader({ seq: 2 }), content)).ciphertext
      assert.notDeepEqual(a.subarray(0, a.byteLength - 16), b.subarray(0, b.byteLength - 16))
    })

    it('round-trips any valid header and content in both directions (property)', () => {
      const header = fc.record({
        id: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        epoch: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        seq: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
        created: fc.integer({ min: 0, max: NOW + MAX_CLOCK_SKEW_MS }),
        expires: fc.oneof(fc.constant(0), fc.integer({ min: NOW + 1, max: Number.MAX_SAFE_INTEGER }))
      })
      const id = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 16, maxLength: 16 }))
      const content = fc.record({
        subject: fc.string({ unit: 'binary', maxLength: 200 }),
        body: fc.string({ unit: 'grapheme', maxLength: 1000 }),
        contentType: fc.constantFrom('', 'text/plain', 'text/markdown', 'application/json'),
        thread: id,
        replyTo: id,
        group: fc.oneof(fc.constant(''), fc.string({ unit: 'grapheme', maxLength: 30 })),
        attachments: fc.array(fc.record({
          blob: fc.uint8Array({ minLength: 16, maxLength: 16 }),
          name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
          mediaType: fc.constantFrom('', 'application/pdf'),
          size: fc.maxSafeNat(),
          sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          key: fc.uint8Array({ minLength: 32, maxLength: 32 })
        }), { maxLength: 3 })
      })
      fc.assert(fc.property(header, content, fc.boolean(), (h, c, down) => {
        const full = down ? siteHeader(h) : deviceHeader(h)
        const [sealKey, openKey, opts] = down
          ? [siteKeys.siteToDevice, deviceKeys.siteToDevice, AT_DEVICE]
          : [deviceKeys.deviceToSite, siteKeys.deviceToSite, AT_SITE]
        const opened = receive(sealEnvelope(sealKey, full, encodeContent(c)), openKey, opts)
        assert.deepStrictEqual(opened, {
          ...c,
          contentType: c.contentType === '' ? DEFAULT_CONTENT_TYPE : c.contentType,
          attachments: c.attachments.map(a => ({ ...a, mediaType: a.mediaType === '' ? DEFAULT_MEDIA_TYPE : a.mediaType }))
        })
      }), { numRuns: 150 })
    })

    it('seals a Push frame in place: the bytes protons writes for the sealed envelope, whatever the lengths (property)', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 20_000 }), (seq, bodyBytes) => {
        const header = siteHeader({ seq })
        const content = encodeContent({ subject: 's', body: 'x'.repeat(bodyBytes) })
        assert.deepStrictEqual(sealPushFrame(siteKeys.siteToDevice, header, content), Push.encode({ envelope: sealEnvelopeMessage(siteKeys.siteToDevice, header, content) }))
      }), { numRuns: 100 })
      throwsTmtp(() => sealPushFrame(siteKeys.siteToDevice, siteHeader({ seq: 0 }), new Uint8Array(0)), ErrorCode.BAD_FRAME)
    })
  })

  describe('the header is the AAD, as bytes', () => {
    it('binds header bytes it does not understand, without re-encoding them', () => {
      const header = siteHeader()
      const known = EnvelopeHeader.encode(header)
      const withUnknown = Uint8Array.from([...known, 0x48, 0x01]) // field 9, varint 1: from a later version
      const plaintext = encodeContent({ body: 'future' })
      const bytes = sealRaw(siteKeys.siteToDevice, withUnknown, header.seq, plaintext)
      const parsed = parseEnvelope(bytes)
      assert.deepStrictEqual(parsed.header, header)
      assert.deepEqual(parsed.headerBytes, withUnknown)
      assert.equal(decryptEnvelope(deviceKeys.siteToDevice, parsed).body, 'future')
      // the same ciphertext under the re-encoded header does not authenticate
      throwsTmtp(() => decryptEnvelope(deviceKeys.siteToDevice, { ...parsed, headerBytes: known }), ErrorCode.DECRYPT_FAILED)
    })

    it('does not let a header and a ciphertext of different envelopes be combined', () => {
      const a = Envelope.decode(sealEnvelope(siteKeys.siteToDevice, siteHeader({ seq: 1, id: messageId(1) }), encodeContent({ body: 'a' })))
      const b = Envelope.decode(sealEnvelope(siteKeys.siteToDevice, siteHeader({ seq: 2, id: messageId(2) }), encodeContent({ body: 'b' })))
      throwsTmtp(() => receive(Envelope.encode({ header: a.header, ciphertext: b.ciphertext }), deviceKeys.siteToDevice, AT_DEVICE), ErrorCode.DECRYPT_FAILED)
      // nor a ciphertext be replayed under another seq, id, epoch, time or recipient
      const variants: Array<Partial<EnvelopeHeader>> = [{ seq: 2 }, { id: messageId(9) }, { epoch: 2 }, { created: NOW - 1 }, { expires: 0 }]
      for (const change of variants) {
        const header = EnvelopeHeader.encode(siteHeader({ seq: 1, id: messageId(1), ...change }))
        throwsTmtp(() => receive(Envelope.encode({ header, ciphertext: a.ciphertext }), deviceKeys.siteToDevice, AT_DEVICE), ErrorCode.DECRYPT_FAILED)
      }
      const redirected = parseEnvelope(Envelope.encode({ header: EnvelopeHeader.encode(siteHeader({ recipient: otherDevice.peerId as B })), ciphertext: a.ciphertext }))
      throwsTmtp(() => checkEnvelopeHeader(redirected.header, AT_DEVICE), ErrorCode.WRONG_RECIPIENT)
      throwsTmtp(() => decryptEnvelope(deviceKeys.siteToDevice, redirected), ErrorCode.DECRYPT_FAILED)
    })
  })

  describe('messageNonce', () => {
    const base = Uint8Array.from([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab])

    it('is baseNonce XOR (4 zero bytes || uint64be(seq))', () => {
      assert.deepEqual(messageNonce(base, 0), base)
      assert.deepEqual(messageNonce(base, 1), Uint8Array.from([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xaa]))
      assert.deepEqual(messageNonce(new Uint8Array(12), 0x0102030405), Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5]))
      assert.deepEqual(messageNonce(new Uint8Array(12), Number.MAX_SAFE_INTEGER), Uint8Array.from([0, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
      assert.deepEqual(base, Uint8Array.from([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab]), 'baseNonce is not modified')
      // against the definition computed with a BigInt, for any safe seq
      fc.assert(fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (b, seq) => {
        const expected = Uint8Array.from(b)
        const seqBytes = new Uint8Array(12)
        new DataView(seqBytes.buffer).setBigUint64(4, BigInt(seq))
        for (let i = 0; i < 12; i++) expected[i] ^= seqBytes[i]
        assert.deepEqual(messageNonce(b, seq), expected)
      }), { numRuns: 1000 })
    })

    it('is unique per seq under one base nonce (property)', () => {
      const seq = fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }))
      fc.assert(fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), seq, seq, (b, s1, s2) => {
        const equal = Buffer.compare(messageNonce(b, s1), messageNonce(b, s2)) === 0
        assert.equal(equal, s1 === s2)
      }), { numRuns: 500 })
      const seen = new Set<string>()
      for (let s = 1; s <= 5000; s++) seen.add(Buffer.from(messageNonce(base, s)).toString('hex'))
      assert.equal(seen.size, 5000)
    })

    it('differs between the two directions of an epoch for the same seq', () => {
      assert.notDeepEqual(siteKeys.siteToDevice.baseNonce, siteKeys.deviceToSite.baseNonce)
      assert.notDeepEqual(messageNonce(siteKeys.siteToDevice.baseNonce, 1), messageNonce(siteKeys.deviceToSite.baseNonce, 1))
    })
  })

  describe('header form (sealEnvelope and parseEnvelope)', () => {
    const badHeaders: Array<[string, Partial<EnvelopeHeader>]> = [
      ['id of 15 bytes', { id: new Uint8Array(15) }],
      ['id of 17 bytes', { id: new Uint8Array(17) }],
      ['empty id', { id: new Uint8Array(0) }],
      ['sender not an Ed25519 PeerId', { sender: site.publicKey as B }],
      ['recipient not an Ed25519 PeerId', { recipient: new Uint8Array(38) }],
      ['seq 0', { seq: 0 }],
      ['epoch 0', { epoch: 0 }]
    ]

    it('refuses to seal a malformed header (BAD_FRAME)', () => {
      for (const [what, change] of badHeaders) {
        assert.ok(throwsTmtp(() => sealEnvelope(siteKeys.siteToDevice, siteHeader(change), encodeContent({})), ErrorCode.BAD_FRAME), what)
      }
      throwsTmtp(() => sealEnvelope(siteKeys.siteToDevice, siteHeader({ seq: 1.5 }), encodeContent({})), ErrorCode.BAD_FRAME)
      throwsTmtp(() => sealEnvelope(siteKeys.siteToDevice, siteHeader({ seq: 2 ** 53 }), encodeContent({})), ErrorCode.BAD_FRAME)
      throwsTmtp(() => sealEnvelope(siteKeys.siteToDevice, siteHeader({ epoch: -1 }), encodeContent({})), ErrorCode.BAD_FRAME)
    })

    it('refuses to parse a malformed header (BAD_FRAME)', () => {
      for (const [what, change] of badHeaders) {
        const bytes = Envelope.encode({ header: EnvelopeHeader.encode(siteHeader(change)), ciphertext: new Uint8Array(16) })
        assert.ok(throwsTmtp(() => parseEnvelope(bytes), ErrorCode.BAD_FRAME), what)
      }
    })

    it('refuses any version but 1 (UNSUPPORTED_VERSION)', () => {
      for (const version of [0, 2, 255, 2 ** 32 - 1]) {
        const bytes = Envelope.encode({ header: EnvelopeHeader.encode(siteHeader({ version })), ciphertext: new Uint8Array(16) })
        throwsTmtp(() => parseEnvelope(bytes), ErrorCode.UNSUPPORTED_VERSION)
      }
      throwsTmtp(() => parseEnvelope(new Uint8Array(0)), ErrorCode.UNSUPPORTED_VERSION)
    })

    it('refuses a ciphertext shorter than the 16-byte tag (BAD_FRAME)', () => {
      const header = EnvelopeHeader.encode(siteHeader())
      for (const n of [0, 1, 15]) throwsTmtp(() => parseEnvelope(Envelope.encode({ header, ciphertext: new Uint8Array(n) })), ErrorCode.BAD_FRAME)
      const parsed = parseEnvelope(Envelope.encode({ header, ciphertext: new Uint8Array(16) }))
      throwsTmtp(() => decryptEnvelope(deviceKeys.siteToDevice, parsed), ErrorCode.DECRYPT_FAILED)
    })
  })

  describe('checkEnvelopeHeader', () => {
    const check = (change: Partial<EnvelopeHeader>, opts: Partial<CheckEnvelopeOptions> = {}): void => {
      checkEnvelopeHeader(siteHeader(change), { ...AT_DEVICE, ...opts })
    }

    it('accepts an envelope for this node from the peer that sent it', () => {
      check({})
    })

    it('refuses an envelope for another node (WRONG_RECIPIENT) or from another sender (WRONG_SIGNER)', () => {
      throwsTmtp(() => check({ recipient: otherDevice.peerId as B }), ErrorCode.WRONG_RECIPIENT)
      throwsTmtp(() => check({}, { recipient: otherDevice.peerId }), ErrorCode.WRONG_RECIPIENT)
      throwsTmtp(() => check({ sender: otherSite.peerId as B }), ErrorCode.WRONG_SIGNER)
      throwsTmtp(() => check({}, { sender: otherSite.peerId }), ErrorCode.WRONG_SIGNER)
      // the recipient is checked first (spec step order)
      throwsTmtp(() => check({ recipient: otherDevice.peerId as B, sender: otherSite.peerId as B }), ErrorCode.WRONG_RECIPIENT)
    })

    it('expires an envelope at its expiry time, never when expires is 0 (EXPIRED)', () => {
      check({ expires: NOW + 1 })
      throwsTmtp(() => check({ expires: NOW }), ErrorCode.EXPIRED)
      throwsTmtp(() => check({ expires: NOW - 1 }), ErrorCode.EXPIRED)
      throwsTmtp(() => check({ expires: 1, created: 0 }), ErrorCode.EXPIRED)
      check({ expires: 0, created: 0 })
      check({ expires: 0 }, { now: Number.MAX_SAFE_INTEGER - MAX_CLOCK_SKEW_MS })
    })

    it(`tolerates ${MAX_CLOCK_SKEW_MS} ms of clock skew and no more (BAD_TIMESTAMP)`, () => {
      check({ created: NOW + MAX_CLOCK_SKEW_MS, expires: 0 })
      throwsTmtp(() => check({ created: NOW + MAX_CLOCK_SKEW_MS + 1, expires: 0 }), ErrorCode.BAD_TIMESTAMP)
      throwsTmtp(() => check({ created: NOW + 10 * HOUR, expires: NOW + 11 * HOUR }), ErrorCode.BAD_TIMESTAMP)
      check({ created: 0 })
      // an envelope both expired and from the future is expired
      throwsTmtp(() => check({ created: NOW + 10 * HOUR, expires: NOW }), ErrorCode.EXPIRED)
    })
  })

  describe('content', () => {
    const ascii = (n: number): string => 'a'.repeat(n)

    it(`limits the subject to ${MAX_SUBJECT_BYTES} UTF-8 bytes`, () => {
      encodeContent({ subject: ascii(MAX_SUBJECT_BYTES) })
      throwsTmtp(() => encodeContent({ subject: ascii(MAX_SUBJECT_BYTES + 1) }), ErrorCode.BAD_FRAME)
      // 341 x 3 bytes + 1 = 1024; 342 x 3 = 1026
      encodeContent({ subject: '€'.repeat(341) + 'a' })
      throwsTmtp(() => encodeContent({ subject: '€'.repeat(342) }), ErrorCode.BAD_FRAME)
      throwsTmtp(() => encodeContent({ subject: '€'.repeat(341) + 'é' }), ErrorCode.BAD_FRAME)
      // 256 x 4 bytes = 1024, only 512 UTF-16 code units
      encodeContent({ subject: '😀'.repeat(256) })
      throwsTmtp(() => encodeContent({ subject: '😀'.repeat(256) + 'a' }), ErrorCode.BAD_FRAME)
    })

    it(`limits the body to ${MAX_BODY_BYTES} UTF-8 bytes`, () => {
      const sealed = sealEnvelope(siteKeys.siteToDevice, siteHeader(), encodeContent({ body: ascii(MAX_BODY_BYTES) }))
      assert.equal(receive(sealed, deviceKeys.siteToDevice, AT_DEVICE).body.length, MAX_BODY_BYTES)
      throwsTmtp(() => encodeContent({ body: ascii(MAX_BODY_BYTES + 1) }), ErrorCode.BAD_FRAME)
      encodeContent({ body: 'é'.repeat(MAX_BODY_BYTES / 2) })
      throwsTmtp(() => encodeContent({ body: 'é'.repeat(MAX_BODY_BYTES / 2) + 'a' }), ErrorCode.BAD_FRAME)
      throwsTmtp(() => encodeContent({ body: 'a' + '😀'.repeat(MAX_BODY_BYTES / 4) }), ErrorCode.BAD_FRAME)
    })

    it('limits the content type and the group to 128 bytes and thread / reply_to to empty or 16 bytes', () => {
      encodeContent({ contentType: ascii(128) })
      throwsTmtp(() => encodeContent({ contentType: ascii(129) }), ErrorCode.BAD_FRAME)
      assert.equal(MAX_GROUP_NAME_BYTES, 128)
      encodeContent({ group: 'é'.repeat(MAX_GROUP_NAME_BYTES / 2) })
      throwsTmtp(() => encodeContent({ group: 'é'.repeat(MAX_GROUP_NAME_BYTES / 2) + 'a' }), ErrorCode.BAD_FRAME)
      for (const n of [1, 15, 17, 32]) {
        throwsTmtp(() => encodeContent({ thread: new Uint8Array(n) }), ErrorCode.BAD_FRAME)
        throwsTmtp(() => encodeContent({ replyTo: new Uint8Array(n) }), ErrorCode.BAD_FRAME)
      }
    })

    it('applies the same limits to content received (BAD_FRAME), and defaults the content type', () => {
      const wire = (c: Partial<Content>): Uint8Array => Content.encode(c)
      throwsTmtp(() => decodeContent(wire({ subject: ascii(MAX_SUBJECT_BYTES + 1) })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeContent(wire({ body: '€'.repeat(MAX_BODY_BYTES / 3 + 1) })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeContent(wire({ contentType: ascii(129) })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeContent(wire({ group: ascii(MAX_GROUP_NAME_BYTES + 1) })), ErrorCode.BAD_FRAME)
      assert.equal(decodeContent(wire({ group: ascii(MAX_GROUP_NAME_BYTES) })).group, ascii(MAX_GROUP_NAME_BYTES))
      throwsTmtp(() => decodeContent(wire({ thread: new Uint8Array(15) })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeContent(wire({ replyTo: new Uint8Array(1) })), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeContent(Uint8Array.from([0x0a, 0x05, 0x61])), ErrorCode.BAD_FRAME)
      assert.equal(decodeContent(wire({})).contentType, DEFAULT_CONTENT_TYPE)
      assert.equal(decodeContent(wire({ contentType: 'text/plain' })).contentType, 'text/plain')
    })

    it('refuses sealed content that breaks the limits, after it authenticates (BAD_FRAME)', () => {
      const header = siteHeader()
      const headerBytes = EnvelopeHeader.encode(header)
      for (const plaintext of [Content.encode({ subject: ascii(MAX_SUBJECT_BYTES + 1) }), Content.encode({ thread: new Uint8Array(3) }), Uint8Array.from([0xff])]) {
        const bytes = sealRaw(siteKeys.siteToDevice, headerBytes, header.seq, plaintext)
        assert.deepEqual(decryptContent(deviceKeys.siteToDevice, parseEnvelope(bytes)), plaintext)
        throwsTmtp(() => receive(bytes, deviceKeys.siteToDevice, AT_DEVICE), ErrorCode.BAD_FRAME)
      }
    })
  })

  describe('tampering', () => {
    it('detects every single-bit change of a small envelope, at every bit', () => {
      const bytes = sealEnvelope(siteKeys.siteToDevice, siteHeader(), encodeContent({ subject: 'hi', body: 'there' }))
      assert.equal(receive(bytes, deviceKeys.siteToDevice, AT_DEVICE).body, 'there')
      const layout = envelopeLayout(bytes)
      const inside = (bit: number, [from, to]: [number, number]): boolean => bit >= from * 8 && bit < to * 8
      // the header starts with version (tag, value), then the id (tag, length, 16 bytes)
      const idBytes: [number, number] = [layout.header[0] + 4, layout.header[0] + 20]
      assert.deepEqual(bytes.subarray(...idBytes), messageId(0x01))
      const counts = new Map<string, number>()
      for (let bit = 0; bit < bytes.byteLength * 8; bit++) {
        const tampered = flipBit(bytes, bit)
        // all the receiver's steps
        const err = throwsTmtp(() => receive(tampered, deviceKeys.siteToDevice, AT_DEVICE), TAMPER_CODES)
        counts.set(err.code, (counts.get(err.code) ?? 0) + 1)
        // the AEAD alone, without the header checks, catches it as well
        throwsTmtp(() => decryptEnvelope(deviceKeys.siteToDevice, parseEnvelope(tampered)), TAMPER_CODES)
        if (inside(bit, layout.ciphertext)) {
          throwsTmtp(() => receive(tampered, deviceKeys.siteToDevice, AT_DEVICE), ErrorCode.DECRYPT_FAILED)
        }
        if (inside(bit, idBytes)) {
          throwsTmtp(() => receive(tampered, deviceKeys.siteToDevice, AT_DEVICE), ErrorCode.DECRYPT_FAILED)
        }
      }
      const mustFailDecryption = (layout.ciphertext[1] - layout.ciphertext[0] + 16) * 8
      assert.ok((counts.get(ErrorCode.DECRYPT_FAILED) ?? 0) >= mustFailDecryption, `outcomes: ${JSON.stringify([...counts])}`)
    })

    it('detects single-bit changes at random positions of large envelopes (property)', () => {
      const bodies = [
        'x'.repeat(3000),
        'é€😀'.repeat(900)
      ].map((body, i) => sealEnvelope(siteKeys.siteToDevice, siteHeader({ seq: 1000 + i, expires: 0 }), encodeContent({ subject: 's'.repeat(MAX_SUBJECT_BYTES), body })))
      fc.assert(fc.property(fc.constantFrom(...bodies), fc.nat(), (bytes, at) => {
        const tampered = flipBit(bytes, at % (bytes.byteLength * 8))
        throwsTmtp(() => receive(tampered, deviceKeys.siteToDevice, AT_DEVICE), TAMPER_CODES)
      }), { numRuns: 400 })
    })

    it('detects any other corruption: bytes changed, cut or appended (property)', () => {
      const bytes = sealEnvelope(siteKeys.siteToDevice, siteHeader(), encodeContent({ subject: 'subject', body: 'body '.repeat(40) }))
      const edits = fc.oneof(
        fc.record({ kind: fc.constant('xor' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), mask: fc.constant(0) }),
        fc.record({ kind: fc.constant('append' as const), at: fc.nat({ max: 255 }), mask: fc.nat({ max: 255 }) })
      )
      fc.assert(fc.property(fc.array(edits, { minLength: 1, maxLength: 4 }), list => {
        let t = Uint8Array.from(bytes)
        for (const e of list) {
          if (e.kind === 'xor') t[e.at % t.byteLength] ^= e.mask
          else if (e.kind === 'cut') t = t.subarray(0, e.at % t.byteLength)
          else t = Uint8Array.from([...t, e.at, e.mask])
        }
        if (Buffer.compare(t, bytes) === 0) return
        // even a well-formed unknown field appended is refused: Envelope is a canonical wrapper
        assert.ok(onlyTmtpErrors(() => receive(t, deviceKeys.siteToDevice, AT_DEVICE)) !== undefined, 'a changed envelope was accepted')
      }), { numRuns: 300 })
    })
  })
})
