import { Ed25519Signer, equalBytes } from './ed25519.js'
import { decodeSignedPayload, signMessage, verifySignedPayload } from './signing.js'
import { AckBody, decodeMessage, ErrorCode, MAX_ACK_IDS, MESSAGE_ID_BYTES, requireLength, SIGNING_CONTEXT, TmtpError } from '../protocol/index.js'

/**
 * Authenticated acknowledgements (spec: "Acknowledgements"): the receiver of envelopes signs
 * one AckBody for a batch of ids, and the sender keeps it as proof of delivery.
 */
export function signAck (receiver: Ed25519Signer, sender: Uint8Array, ids: Uint8Array[], time: number): Uint8Array {
  if (ids.length === 0 || ids.length > MAX_ACK_IDS) throw new RangeError(`an acknowledgement covers 1 to ${MAX_ACK_IDS} ids`)
  return signMessage(receiver, SIGNING_CONTEXT.ack, AckBody, {
    sender: sender as Uint8Array<ArrayBuffer>,
    receiver: receiver.peerId as Uint8Array<ArrayBuffer>,
    ids: ids as Array<Uint8Array<ArrayBuffer>>,
    time
  })
}

/**
 * Checks an acknowledgement received from `receiver` for envelopes sent by `sender`:
 * WRONG_RECIPIENT if it acknowledges another sender's envelopes, WRONG_SIGNER if it names
 * another receiver, BAD_SIGNATURE if the signature fails, BAD_FRAME if malformed.
 */
export function openAck (bytes: Uint8Array, sender: Uint8Array, receiver: Uint8Array): AckBody {
  const signed = decodeSignedPayload(bytes, 'acknowledgement')
  const ack = decodeMessage(AckBody, signed.payload, 'acknowledgement', { limits: { ids: MAX_ACK_IDS } })
  if (!equalBytes(ack.receiver, receiver)) throw new TmtpError(ErrorCode.WRONG_SIGNER, 'acknowledgement names another receiver')
  if (!equalBytes(ack.sender, sender)) throw new TmtpError(ErrorCode.WRONG_RECIPIENT, 'acknowledgement is for another sender')
  verifySignedPayload(signed, SIGNING_CONTEXT.ack, receiver, 'acknowledgement')
  if (ack.ids.length === 0) throw new TmtpError(ErrorCode.BAD_FRAME, 'acknowledgement lists no ids')
  for (const id of ack.ids) requireLength(id, MESSAGE_ID_BYTES, 'acknowledged id')
  return ack
}
