import { Ed25519Signer, equalBytes } from './ed25519.js'
import { decodeSignedPayload, signMessage, verifySignedPayload } from './signing.js'
import { decodeMessage, ErrorCode, Leave, SIGNING_CONTEXT, TmtpError } from '../protocol/index.js'

/** A device's signed request to leave a site (spec: "/tmtp/leave/1.0.0"). */
export function signLeave (device: Ed25519Signer, site: Uint8Array, time: number): Uint8Array {
  return signMessage(device, SIGNING_CONTEXT.leave, Leave, {
    site: site as Uint8Array<ArrayBuffer>,
    device: device.peerId as Uint8Array<ArrayBuffer>,
    time
  })
}

/** Site side: the leave must name this site and be signed by the device that sent it. */
export function openLeave (bytes: Uint8Array, site: Uint8Array, device: Uint8Array): Leave {
  const signed = decodeSignedPayload(bytes, 'leave')
  const leave = decodeMessage(Leave, signed.payload, 'leave')
  if (!equalBytes(leave.device, device)) throw new TmtpError(ErrorCode.WRONG_SIGNER, 'leave names another device')
  if (!equalBytes(leave.site, site)) throw new TmtpError(ErrorCode.WRONG_RECIPIENT, 'leave is for another site')
  verifySignedPayload(signed, SIGNING_CONTEXT.leave, device, 'leave')
  return leave
}
