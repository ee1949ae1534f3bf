import assert from 'node:assert/strict'
import { openDeviceKey, signDeviceKey } from '../../src/crypto/device-key.js'
import { signMessage } from '../../src/crypto/signing.js'
import { SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { DeviceKey } from '../../src/protocol/pb/tmtp.js'
import { flipBit, hex, throwsTmtp } from '../support/assertions.js'
import { SMALL_ORDER_X25519, device, deviceX25519, otherDevice, site } from '../support/keys.js'

type B = Uint8Array<ArrayBuffer>

const CREATED = 1_750_000_000_000

describe('crypto/device-key', () => {
  it('binds a device X25519 key to its identity', () => {
    const key = openDeviceKey(signDeviceKey(device, deviceX25519.publicKey, CREATED), device.peerId)
    assert.deepStrictEqual(key, { device: device.peerId, x25519: deviceX25519.publicKey, created: CREATED })
  })

  it('refuses a key naming another device (WRONG_SIGNER)', () => {
    const signed = signDeviceKey(device, deviceX25519.publicKey, CREATED)
    throwsTmtp(() => openDeviceKey(signed, otherDevice.peerId), ErrorCode.WRONG_SIGNER)
    throwsTmtp(() => openDeviceKey(signed, site.peerId), ErrorCode.WRONG_SIGNER)
  })

  it('refuses a key the device did not sign (BAD_SIGNATURE)', () => {
    const forged = signMessage(otherDevice, SIGNING_CONTEXT.deviceKey, DeviceKey, { device: device.peerId as B, x25519: deviceX25519.publicKey as B, created: CREATED })
    throwsTmtp(() => openDeviceKey(forged, device.peerId), ErrorCode.BAD_SIGNATURE)
    const otherContext = signMessage(device, SIGNING_CONTEXT.invite, DeviceKey, { device: device.peerId as B, x25519: deviceX25519.publicKey as B, created: CREATED })
    throwsTmtp(() => openDeviceKey(otherContext, device.peerId), ErrorCode.BAD_SIGNATURE)
  })

  it('refuses an X25519 key that is not 32 bytes (BAD_FRAME)', () => {
    for (const n of [0, 31, 33, 64]) {
      const signed = signMessage(device, SIGNING_CONTEXT.deviceKey, DeviceKey, { device: device.peerId as B, x25519: new Uint8Array(n), created: CREATED })
      throwsTmtp(() => openDeviceKey(signed, device.peerId), ErrorCode.BAD_FRAME)
    }
  })

  it('refuses an X25519 key of small order, which no site could encapsulate to (BAD_FRAME)', () => {
    for (const key of SMALL_ORDER_X25519) {
      throwsTmtp(() => openDeviceKey(signDeviceKey(device, hex(key), CREATED), device.peerId), ErrorCode.BAD_FRAME)
    }
  })

  it('refuses a device that is not an Ed25519 PeerId (BAD_FRAME)', () => {
    const signed = signMessage(device, SIGNING_CONTEXT.deviceKey, DeviceKey, { device: device.publicKey as B, x25519: deviceX25519.publicKey as B, created: CREATED })
    throwsTmtp(() => openDeviceKey(signed, device.publicKey), ErrorCode.BAD_FRAME)
  })

  it('detects every single-bit change of a signed device key, at every bit', () => {
    const signed = signDeviceKey(device, deviceX25519.publicKey, CREATED)
    for (let bit = 0; bit < signed.byteLength * 8; bit++) {
      throwsTmtp(() => openDeviceKey(flipBit(signed, bit), device.peerId))
    }
  })
})
