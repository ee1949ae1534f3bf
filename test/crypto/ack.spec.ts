import assert from 'node:assert/strict'
import { openAck, signAck } from '../../src/crypto/ack.js'
import { signMessage } from '../../src/crypto/signing.js'
import { MAX_ACK_IDS, SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { AckBody } from '../../src/protocol/pb/tmtp.js'
import { flipBit, throwsTmtp } from '../support/assertions.js'
import { device, messageId, otherDevice, otherSite, site } from '../support/keys.js'
import type { Ed25519Signer } from '../../src/crypto/ed25519.js'

type B = Uint8Array<ArrayBuffer>

const TIME = 1_750_000_000_000

const ids = (n: number): B[] => Array.from({ length: n }, (_, i) => {
  const id = new Uint8Array(16)
  new DataView(id.buffer).setUint32(12, i)
  return id
})

/** An acknowledgement signed as given, bypassing signAck's checks. */
function signRaw (signer: Ed25519Signer, body: Partial<AckBody>, context: typeof SIGNING_CONTEXT[keyof typeof SIGNING_CONTEXT] = SIGNING_CONTEXT.ack): Uint8Array {
  return signMessage(signer, context, AckBody, { sender: site.peerId as B, receiver: signer.peerId as B, ids: [messageId(1)], time: TIME, ...body })
}

describe('crypto/ack', () => {
  it('signs a batch of ids that the sender opens (device acknowledges the site)', () => {
    const batch = ids(3)
    const ack = openAck(signAck(device, site.peerId, batch, TIME), site.peerId, device.peerId)
    assert.deepStrictEqual(ack, { sender: site.peerId, receiver: device.peerId, ids: batch, time: TIME })
  })

  it('works the other way round too (site acknowledges a device post)', () => {
    const ack = openAck(signAck(site, device.peerId, [messageId(9)], 0), device.peerId, site.peerId)
    assert.deepEqual(ack.ids, [messageId(9)])
    assert.equal(ack.time, 0)
  })

  it(`covers 1 to ${MAX_ACK_IDS} ids`, () => {
    assert.throws(() => signAck(device, site.peerId, [], TIME), RangeError)
    assert.throws(() => signAck(device, site.peerId, ids(MAX_ACK_IDS + 1), TIME), RangeError)
    assert.equal(openAck(signAck(device, site.peerId, ids(MAX_ACK_IDS), TIME), site.peerId, device.peerId).ids.length, MAX_ACK_IDS)
    // from a peer that does not keep to the limits
    throwsTmtp(() => openAck(signRaw(device, { ids: [] }), site.peerId, device.peerId), ErrorCode.BAD_FRAME)
    throwsTmtp(() => openAck(signRaw(device, { ids: ids(MAX_ACK_IDS + 1) }), site.peerId, device.peerId), ErrorCode.BAD_FRAME)
  })

  it('refuses ids that are not 16 bytes (BAD_FRAME)', () => {
    for (const n of [0, 1, 15, 17, 32]) {
      throwsTmtp(() => openAck(signRaw(device, { ids: [messageId(1), new Uint8Array(n)] }), site.peerId, device.peerId), ErrorCode.BAD_FRAME)
    }
  })

  it('refuses an ack naming another receiver (WRONG_SIGNER) or for another sender (WRONG_RECIPIENT)', () => {
    const signed = signAck(device, site.peerId, [messageId(1)], TIME)
    throwsTmtp(() => openAck(signed, site.peerId, otherDevice.peerId), ErrorCode.WRONG_SIGNER)
    throwsTmtp(() => openAck(signed, otherSite.peerId, device.peerId), ErrorCode.WRONG_RECIPIENT)
    // a device acknowledging in another device's name
    throwsTmtp(() => openAck(signAck(otherDevice, site.peerId, [messageId(1)], TIME), site.peerId, device.peerId), ErrorCode.WRONG_SIGNER)
  })

  it('refuses an ack the receiver did not sign (BAD_SIGNATURE)', () => {
    const forged = signMessage(otherDevice, SIGNING_CONTEXT.ack, AckBody, { sender: site.peerId as B, receiver: device.peerId as B, ids: [messageId(1)], time: TIME })
    throwsTmtp(() => openAck(forged, site.peerId, device.peerId), ErrorCode.BAD_SIGNATURE)
    for (const context of [SIGNING_CONTEXT.leave, SIGNING_CONTEXT.invite, SIGNING_CONTEXT.deviceKey, SIGNING_CONTEXT.keyEpoch]) {
      throwsTmtp(() => openAck(signRaw(device, {}, context), site.peerId, device.peerId), ErrorCode.BAD_SIGNATURE)
    }
  })

  it('refuses a receiver that is not an Ed25519 PeerId (BAD_FRAME)', () => {
    const signed = signMessage(device, SIGNING_CONTEXT.ack, AckBody, { sender: site.peerId as B, receiver: device.publicKey as B, ids: [messageId(1)], time: TIME })
    throwsTmtp(() => openAck(signed, site.peerId, device.publicKey), ErrorCode.BAD_FRAME)
  })

  it('detects every single-bit change of a signed ack, at every bit', () => {
    const signed = signAck(device, site.peerId, ids(2), TIME)
    for (let bit = 0; bit < signed.byteLength * 8; bit++) {
      throwsTmtp(() => openAck(flipBit(signed, bit), site.peerId, device.peerId))
    }
  })
})
