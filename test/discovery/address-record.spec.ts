import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { signPayload, signingInput } from '../../src/crypto/signing.js'
import {
  addressRecordKey, createAddressRecordValidator, openAddressRecord, peerFromAddressRecordKey,
  selectAddressRecord, signAddressRecord, tryOpenAddressRecord, validateAddressRecord
} from '../../src/discovery/address-record.js'
import { MAX_RECORD_ADDRS, MAX_RECORD_LIFETIME_MS } from '../../src/discovery/constants.js'
import { MAX_CLOCK_SKEW_MS, SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode, TmtpError } from '../../src/protocol/errors.js'
import { AddressRecord, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { throwsTmtp } from '../support/assertions.js'
import { device, otherDevice } from '../support/keys.js'

const NOW = 1_800_000_000_000
const HOUR = 3600_000
const ADDRS = ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4002', '/dns4/example.org/tcp/443/tls/ws']
const key = addressRecordKey(device.peerId)

/** Signs arbitrary record fields with `signer`, bypassing signAddressRecord's checks. */
function signRaw (signer: typeof device, record: Partial<AddressRecord>): Uint8Array {
  const payload = AddressRecord.encode(record)
  return SignedPayload.encode(signPayload(signer, SIGNING_CONTEXT.addressRecord, payload))
}

describe('discovery/address-record', () => {
  it('builds the key "/tmtp-addr/" || PeerId and reads the PeerId back', () => {
    assert.equal(key.byteLength, 11 + 38)
    assert.deepEqual(key.subarray(0, 11), new TextEncoder().encode('/tmtp-addr/'))
    assert.deepEqual(key.subarray(11), device.peerId)
    assert.deepEqual(peerFromAddressRecordKey(key), device.peerId)
    throwsTmtp(() => peerFromAddressRecordKey(key.subarray(0, 48)), ErrorCode.BAD_FRAME)
    throwsTmtp(() => peerFromAddressRecordKey(Uint8Array.from([...new TextEncoder().encode('/tmtp-adr//'), ...device.peerId])), ErrorCode.BAD_FRAME)
    throwsTmtp(() => addressRecordKey(device.publicKey), ErrorCode.BAD_FRAME)
  })

  it('opens a record its peer signed: addresses, seq and expiry as signed', () => {
    const bytes = signAddressRecord(device, ADDRS, NOW, NOW + 2 * HOUR)
    const record = openAddressRecord(key, bytes, NOW)
    assert.deepEqual(record.peer, device.peerId)
    assert.deepEqual(record.addrs.map(a => a.toString()), ADDRS)
    assert.equal(record.seq, NOW)
    assert.equal(record.expires, NOW + 2 * HOUR)
    // the payload is the canonical AddressRecord, signed under tmtp/1/address-record
    const signed = SignedPayload.decode(bytes)
    assert.deepEqual(AddressRecord.decode(signed.payload).addrs, ADDRS.map(a => multiaddr(a).bytes))
    assert.deepEqual(signed.signature, device.sign(signingInput('tmtp/1/address-record', signed.payload)))
    // Multiaddr and binary addresses sign the same bytes
    assert.deepEqual(signAddressRecord(device, ADDRS.map(a => multiaddr(a)), NOW, NOW + 2 * HOUR), bytes)
    assert.deepEqual(signAddressRecord(device, ADDRS.map(a => multiaddr(a).bytes), NOW, NOW + 2 * HOUR), bytes)
    validateAddressRecord(addressRecordKey(device.peerId), signAddressRecord(device, ADDRS, Date.now(), Date.now() + HOUR))
  })

  it('refuses a forged signature (BAD_SIGNATURE)', () => {
    const bytes = signAddressRecord(device, ADDRS, NOW, NOW + HOUR)
    const signed = SignedPayload.decode(bytes)
    // another key signed a record that names the device
    throwsTmtp(() => openAddressRecord(key, signRaw(otherDevice, AddressRecord.decode(signed.payload)), NOW), ErrorCode.BAD_SIGNATURE)
    // one bit of the signature or of the payload changed
    const badSignature = Uint8Array.from(signed.signature)
    badSignature[5] ^= 1
    throwsTmtp(() => openAddressRecord(key, SignedPayload.encode({ payload: signed.payload, signature: badSignature }), NOW), ErrorCode.BAD_SIGNATURE)
    const record = AddressRecord.decode(signed.payload)
    const moved = AddressRecord.encode({ ...record, addrs: [multiaddr('/ip4/10.6.6.6/tcp/1').bytes] })
    throwsTmtp(() => openAddressRecord(key, SignedPayload.encode({ payload: moved, signature: signed.signature }), NOW), ErrorCode.BAD_SIGNATURE)
    // a signature under another context
    const payload = signed.payload
    const wrongContext = SignedPayload.encode(signPayload(device, SIGNING_CONTEXT.leave, payload))
    throwsTmtp(() => openAddressRecord(key, wrongContext, NOW), ErrorCode.BAD_SIGNATURE)
    // a signature that is not 64 bytes
    throwsTmtp(() => openAddressRecord(key, SignedPayload.encode({ payload, signature: signed.signature.subarray(1) }), NOW), ErrorCode.BAD_SIGNATURE)
  })

  it('refuses the record of another peer under a key (WRONG_SIGNER), even validly signed', () => {
    const other = signAddressRecord(otherDevice, ADDRS, NOW, NOW + HOUR)
    openAddressRecord(addressRecordKey(otherDevice.peerId), other, NOW)
    throwsTmtp(() => openAddressRecord(key, other, NOW), ErrorCode.WRONG_SIGNER)
  })

  it('refuses an expired record at and after its expiry (EXPIRED)', () => {
    const bytes = signAddressRecord(device, ADDRS, NOW - 3 * HOUR, NOW - HOUR)
    throwsTmtp(() => openAddressRecord(key, bytes, NOW), ErrorCode.EXPIRED)
    const edge = signAddressRecord(device, ADDRS, NOW - HOUR, NOW)
    openAddressRecord(key, edge, NOW - 1)
    throwsTmtp(() => openAddressRecord(key, edge, NOW), ErrorCode.EXPIRED)
    throwsTmtp(() => validateAddressRecord(key, signAddressRecord(device, ADDRS, Date.now() - HOUR, Date.now())), ErrorCode.EXPIRED)
  })

  it('refuses an expiry more than 48 h (plus clock skew) ahead (BAD_TIMESTAMP)', () => {
    const limit = NOW + MAX_RECORD_LIFETIME_MS + MAX_CLOCK_SKEW_MS
    openAddressRecord(key, signAddressRecord(device, ADDRS, NOW, limit), NOW)
    throwsTmtp(() => openAddressRecord(key, signAddressRecord(device, ADDRS, NOW, limit + 1), NOW), ErrorCode.BAD_TIMESTAMP)
    throwsTmtp(() => openAddressRecord(key, signAddressRecord(device, ADDRS, NOW, NOW + 365 * 24 * HOUR), NOW), ErrorCode.BAD_TIMESTAMP)
  })

  it('allows at most 16 addresses (BAD_FRAME), on signing and on opening', () => {
    const many = Array.from({ length: MAX_RECORD_ADDRS + 1 }, (_, i) => `/ip4/10.0.0.${i + 1}/tcp/4001`)
    assert.equal(openAddressRecord(key, signAddressRecord(device, many.slice(0, MAX_RECORD_ADDRS), NOW, NOW + HOUR), NOW).addrs.length, 16)
    throwsTmtp(() => signAddressRecord(device, many, NOW, NOW + HOUR), ErrorCode.BAD_FRAME)
    const forced = signRaw(device, { peer: device.peerId as Uint8Array<ArrayBuffer>, addrs: many.map(a => multiaddr(a).bytes), seq: NOW, expires: NOW + HOUR })
    throwsTmtp(() => openAddressRecord(key, forced, NOW), ErrorCode.BAD_FRAME)
  })

  it('refuses addresses that are not multiaddrs, empty, too long or end with /p2p (BAD_FRAME)', () => {
    const record = (addrs: Uint8Array[]): Uint8Array => signRaw(device, { peer: device.peerId as Uint8Array<ArrayBuffer>, addrs: addrs as Array<Uint8Array<ArrayBuffer>>, seq: NOW, expires: NOW + HOUR })
    const good = multiaddr('/ip4/127.0.0.1/tcp/1').bytes
    openAddressRecord(key, record([good]), NOW)
    openAddressRecord(key, record([]), NOW)
    for (const bad of [
      new Uint8Array(0),
      Uint8Array.of(0xff, 0xff),
      Uint8Array.of(4, 127, 0, 0),
      Uint8Array.from([...good, 6]),
      Uint8Array.from([...good, 6, 0x80, 0x31]).subarray(0, good.byteLength + 1), // the parser reads past a subarray's end
      multiaddr(`/dns4/${'a'.repeat(600)}/tcp/1`).bytes,
      multiaddr('/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV').bytes
    ]) {
      throwsTmtp(() => openAddressRecord(key, record([good, bad]), NOW), ErrorCode.BAD_FRAME)
    }
    throwsTmtp(() => signAddressRecord(device, ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV'], NOW, NOW + HOUR), ErrorCode.BAD_FRAME)
  })

  it('refuses malformed records and keys (BAD_FRAME)', () => {
    const good = signAddressRecord(device, ADDRS, NOW, NOW + HOUR)
    throwsTmtp(() => openAddressRecord(key, good.subarray(0, good.byteLength - 3), NOW), ErrorCode.BAD_FRAME)
    throwsTmtp(() => openAddressRecord(key, Uint8Array.from([...good, 0x18, 1]), NOW), ErrorCode.BAD_FRAME) // unknown field in the wrapper
    throwsTmtp(() => openAddressRecord(key.subarray(1), good, NOW), ErrorCode.BAD_FRAME)
    throwsTmtp(() => openAddressRecord(key, signRaw(device, { peer: device.publicKey as Uint8Array<ArrayBuffer>, addrs: [], seq: NOW, expires: NOW + HOUR }), NOW), ErrorCode.BAD_FRAME)
    throwsTmtp(() => openAddressRecord(key, signRaw(device, { peer: device.peerId as Uint8Array<ArrayBuffer>, addrs: [], seq: 0, expires: NOW + HOUR }), NOW), ErrorCode.BAD_FRAME)
    throwsTmtp(() => signAddressRecord(device, ADDRS, 0, NOW + HOUR), ErrorCode.BAD_FRAME)
    const error = tryOpenAddressRecord(key, new Uint8Array([0xff]), NOW)
    assert.ok(error instanceof TmtpError)
    assert.equal(error.code, ErrorCode.BAD_FRAME)
  })

  it('reproduces the test vector of spec/tmtp.md section 16.3', () => {
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
    const signer = new Ed25519Signer(Buffer.from('481731191204f63154a3effea090751806ba1d9859e0419e63135babcc75ec3c', 'hex'))
    const t0 = 1764374400000
    const bytes = signAddressRecord(signer, ['/ip4/192.168.1.20/tcp/4001', '/ip6/::1/tcp/4001'], t0, t0 + 2 * HOUR)
    const vectorKey = addressRecordKey(signer.peerId)
    assert.equal(hex(vectorKey), '2f746d74702d616464722f002408011220dd6996ecfcba967e3e93244bd657d163da5d0fa4a2f0db0c09b055874b457ad0')
    const payload = '0a26002408011220dd6996ecfcba967e3e93244bd657d163da5d0fa4a2f0db0c09b055874b457ad0' +
      '120804c0a80114060fa1' + '12142900000000000000000000000000000001060fa1' + '188098a3e7ac33' + '2080d2daeaac33'
    const signature = '43b14d53094f5b2eb5e34a1253285e23d17fe90f681b9d0f88ed0b940ff94e31c02d77e57fd73d3e9bea2f9cc3c6363b67a23704094cacfd89f88765bc45c502'
    assert.equal(hex(SignedPayload.decode(bytes).payload), payload)
    assert.equal(hex(signingInput(SIGNING_CONTEXT.addressRecord, SignedPayload.decode(bytes).payload)), '746d74702f312f616464726573732d7265636f726400' + payload)
    assert.equal(hex(bytes), '0a56' + payload + '1240' + signature)
    const record = openAddressRecord(vectorKey, bytes, t0)
    assert.deepEqual(record.addrs.map(String), ['/ip4/192.168.1.20/tcp/4001', '/ip6/::1/tcp/4001'])
    throwsTmtp(() => openAddressRecord(vectorKey, bytes, t0 + 2 * HOUR), ErrorCode.EXPIRED)
  })

  describe('selector', () => {
    const now = Date.now()
    const older = signAddressRecord(device, ['/ip4/127.0.0.1/tcp/1'], now - 1000, now + HOUR)
    const newer = signAddressRecord(device, ['/ip4/127.0.0.1/tcp/2'], now, now + HOUR)
    const forgedHigher = signRaw(otherDevice, { peer: device.peerId as Uint8Array<ArrayBuffer>, addrs: [multiaddr('/ip4/10.6.6.6/tcp/6').bytes], seq: now + 10_000, expires: now + HOUR })
    const expiredHigher = signAddressRecord(device, ['/ip4/127.0.0.1/tcp/3'], now + 5000, now - 1)

    it('picks the valid record with the highest seq, whatever the order', () => {
      assert.equal(selectAddressRecord(key, [older, newer]), 1)
      assert.equal(selectAddressRecord(key, [newer, older]), 0)
      assert.equal(selectAddressRecord(key, [older, forgedHigher, newer, expiredHigher]), 2)
      assert.equal(selectAddressRecord(key, [forgedHigher, expiredHigher, older]), 2)
    })

    it('breaks a tie of seq by the greater bytes, so every node picks the same record', () => {
      const a = signAddressRecord(device, ['/ip4/127.0.0.1/tcp/7'], now, now + HOUR)
      const b = signAddressRecord(device, ['/ip4/127.0.0.1/tcp/8'], now, now + HOUR)
      const winner = Buffer.compare(a, b) > 0 ? a : b
      assert.equal([a, b][selectAddressRecord(key, [a, b])], winner)
      assert.equal([b, a][selectAddressRecord(key, [b, a])], winner)
    })
  })

  describe('validator of the DHT', () => {
    it('refuses to store a valid record older than one it accepted for the key (EXPIRED), until that one expires', () => {
      let clock = NOW
      const validate = createAddressRecordValidator({ now: () => clock })
      const first = signAddressRecord(device, ['/ip4/127.0.0.1/tcp/1'], NOW - 10, NOW + HOUR)
      const second = signAddressRecord(device, ['/ip4/127.0.0.1/tcp/2'], NOW, NOW + HOUR)
      validate(key, first)
      validate(key, second)
      validate(key, second)
      throwsTmtp(() => validate(key, first), ErrorCode.EXPIRED)
      // on reads (kad-dht passes options) the older record passes: it loses at selection instead
      validate(key, first, {})
      // other keys are independent
      validate(addressRecordKey(otherDevice.peerId), signAddressRecord(otherDevice, ['/ip4/127.0.0.1/tcp/3'], NOW - 100, NOW + HOUR))
      // forged records never count, even with a higher seq
      const forged = signRaw(otherDevice, { peer: device.peerId as Uint8Array<ArrayBuffer>, addrs: [], seq: NOW + 1000, expires: NOW + HOUR })
      throwsTmtp(() => validate(key, forged), ErrorCode.BAD_SIGNATURE)
      validate(key, second)
      // once the newest record has expired, an older one that is still valid is accepted again
      const longer = signAddressRecord(device, ['/ip4/127.0.0.1/tcp/4'], NOW - 20, NOW + 3 * HOUR)
      throwsTmtp(() => validate(key, longer), ErrorCode.EXPIRED)
      clock = NOW + 2 * HOUR
      validate(key, longer)
    })

    it('forgets the oldest key beyond its size', () => {
      const validate = createAddressRecordValidator({ size: 1, now: () => NOW })
      validate(key, signAddressRecord(device, [], NOW, NOW + HOUR))
      validate(addressRecordKey(otherDevice.peerId), signAddressRecord(otherDevice, [], NOW, NOW + HOUR))
      validate(key, signAddressRecord(device, [], NOW - 1, NOW + HOUR))
    })
  })
})
