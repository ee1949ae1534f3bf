import assert from 'node:assert/strict'
import { SIGNATURE_BYTES } from '../../src/crypto/ed25519.js'
import { decodeSignedPayload, signMessage, signPayload, signingInput, verifySignedPayload } from '../../src/crypto/signing.js'
import { SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { Leave, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { bytesOf, throwsTmtp } from '../support/assertions.js'
import { device, site } from '../support/keys.js'

describe('crypto/signing', () => {
  it('signs context || 0x00 || payload', () => {
    const input = signingInput(SIGNING_CONTEXT.ack, bytesOf(1, 2))
    assert.deepEqual(input, Uint8Array.from([...Buffer.from('tmtp/1/ack'), 0, 1, 2]))
    assert.deepEqual(signingInput(SIGNING_CONTEXT.leave, new Uint8Array(0)), Uint8Array.from([...Buffer.from('tmtp/1/leave'), 0]))
    const signed = signPayload(site, SIGNING_CONTEXT.ack, bytesOf(1, 2))
    assert.deepEqual(signed.signature, site.sign(input))
    assert.deepEqual(signed.payload, bytesOf(1, 2))
  })

  it('has distinct context strings, none a prefix of another', () => {
    const contexts = Object.values(SIGNING_CONTEXT)
    assert.deepEqual(contexts, ['tmtp/1/device-key', 'tmtp/1/invite', 'tmtp/1/key-epoch', 'tmtp/1/ack', 'tmtp/1/leave', 'tmtp/1/address-record'])
    for (const a of contexts) for (const b of contexts) if (a !== b) assert.equal(b.startsWith(a), false)
  })

  it('verifies only under the context, payload and signer it was made with', () => {
    const signed = decodeSignedPayload(signMessage(device, SIGNING_CONTEXT.leave, Leave, { site: site.peerId as Uint8Array<ArrayBuffer>, device: device.peerId as Uint8Array<ArrayBuffer>, time: 5 }), 'leave')
    verifySignedPayload(signed, SIGNING_CONTEXT.leave, device.peerId, 'leave')
    for (const context of Object.values(SIGNING_CONTEXT)) {
      if (context !== SIGNING_CONTEXT.leave) throwsTmtp(() => verifySignedPayload(signed, context, device.peerId, 'leave'), ErrorCode.BAD_SIGNATURE)
    }
    throwsTmtp(() => verifySignedPayload(signed, SIGNING_CONTEXT.leave, site.peerId, 'leave'), ErrorCode.BAD_SIGNATURE)
    const altered = { ...signed, payload: Uint8Array.from([...signed.payload, 0]) }
    throwsTmtp(() => verifySignedPayload(altered, SIGNING_CONTEXT.leave, device.peerId, 'leave'), ErrorCode.BAD_SIGNATURE)
    throwsTmtp(() => verifySignedPayload(signed, SIGNING_CONTEXT.leave, device.publicKey, 'leave'), ErrorCode.BAD_FRAME)
  })

  it('refuses a signature that is not 64 bytes before verifying anything (BAD_SIGNATURE)', () => {
    for (const n of [0, 1, 63, 65, 128]) {
      const bytes = SignedPayload.encode({ payload: bytesOf(1), signature: new Uint8Array(n) })
      throwsTmtp(() => decodeSignedPayload(bytes, 'x'), ErrorCode.BAD_SIGNATURE)
    }
    const ok = SignedPayload.encode({ payload: bytesOf(1), signature: new Uint8Array(SIGNATURE_BYTES) })
    assert.deepEqual(decodeSignedPayload(ok, 'x').payload, bytesOf(1))
    throwsTmtp(() => decodeSignedPayload(bytesOf(0x0a, 9), 'x'), ErrorCode.BAD_FRAME)
  })
})
