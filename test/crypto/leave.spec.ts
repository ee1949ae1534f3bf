import assert from 'node:assert/strict'
import { openLeave, signLeave } from '../../src/crypto/leave.js'
import { signMessage } from '../../src/crypto/signing.js'
import { SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { Leave } from '../../src/protocol/pb/tmtp.js'
import { flipBit, throwsTmtp } from '../support/assertions.js'
import { device, otherDevice, otherSite, site } from '../support/keys.js'

type B = Uint8Array<ArrayBuffer>

const TIME = 1_750_000_000_000

describe('crypto/leave', () => {
  it('is signed by the device and opened by the site', () => {
    const leave = openLeave(signLeave(device, site.peerId, TIME), site.peerId, device.peerId)
    assert.deepStrictEqual(leave, { site: site.peerId, device: device.peerId, time: TIME })
  })

  it('refuses a leave naming another device (WRONG_SIGNER) or for another site (WRONG_RECIPIENT)', () => {
    const signed = signLeave(device, site.peerId, TIME)
    throwsTmtp(() => openLeave(signed, site.peerId, otherDevice.peerId), ErrorCode.WRONG_SIGNER)
    throwsTmtp(() => openLeave(signed, otherSite.peerId, device.peerId), ErrorCode.WRONG_RECIPIENT)
    // the device is checked first: a leave from another device is not this device's business
    throwsTmtp(() => openLeave(signed, otherSite.peerId, otherDevice.peerId), ErrorCode.WRONG_SIGNER)
  })

  it('refuses a leave the device did not sign (BAD_SIGNATURE)', () => {
    const forged = signMessage(otherDevice, SIGNING_CONTEXT.leave, Leave, { site: site.peerId as B, device: device.peerId as B, time: TIME })
    throwsTmtp(() => openLeave(forged, site.peerId, device.peerId), ErrorCode.BAD_SIGNATURE)
    const otherContext = signMessage(device, SIGNING_CONTEXT.ack, Leave, { site: site.peerId as B, device: device.peerId as B, time: TIME })
    throwsTmtp(() => openLeave(otherContext, site.peerId, device.peerId), ErrorCode.BAD_SIGNATURE)
  })

  it('detects every single-bit change of a signed leave, at every bit', () => {
    const signed = signLeave(device, site.peerId, TIME)
    for (let bit = 0; bit < signed.byteLength * 8; bit++) {
      throwsTmtp(() => openLeave(flipBit(signed, bit), site.peerId, device.peerId))
    }
  })
})
