import { Ed25519Signer, equalBytes } from './ed25519.js'
import { isUsableX25519PublicKey } from './x25519.js'
import { decodeSignedPayload, signMessage, verifySignedPayload } from './signing.js'
import { decodeMessage, DeviceKey, ErrorCode, requireLength, SIGNING_CONTEXT, TmtpError } from '../protocol/index.js'

/** Binds a device's X25519 public key to its Ed25519 identity (spec: "Device keys"). */
export function signDeviceKey (device: Ed25519Signer, x25519PublicKey: Uint8Array, created: number): Uint8Array {
  return signMessage(device, SIGNING_CONTEXT.deviceKey, DeviceKey, {
    device: device.peerId as Uint8Array<ArrayBuffer>,
    x25519: x25519PublicKey as Uint8Array<ArrayBuffer>,
    created
  })
}

/**
 * Checks a signed device key presented by `device` (the authenticated remote peer):
 * WRONG_SIGNER if it names another device, BAD_SIGNATURE if the signature fails.
 */
export function openDeviceKey (bytes: Uint8Array, device: Uint8Array): DeviceKey {
  const signed = decodeSignedPayload(bytes, 'device key')
  const key = decodeMessage(DeviceKey, signed.payload, 'device key')
  if (!equalBytes(key.device, device)) {
    throw new TmtpError(ErrorCode.WRONG_SIGNER, 'device key names another device')
  }
  verifySignedPayload(signed, SIGNING_CONTEXT.deviceKey, device, 'device key')
  requireLength(key.x25519, 32, 'X25519 public key')
  if (!isUsableX25519PublicKey(key.x25519)) throw new TmtpError(ErrorCode.BAD_FRAME, 'X25519 public key is of small order')
  return key
}
