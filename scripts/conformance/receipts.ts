import { openAck } from '../../src/crypto/ack.js'
import { codeFromWire, type ErrorCode } from '../../src/protocol/errors.js'
import { decodeCanonical } from '../../src/protocol/messages.js'
import { Receipt, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { MAX_ACK_IDS } from '../../src/protocol/constants.js'
import { hex } from './craft.js'
import type { Answer } from './conversation.js'

/** What a receiver under test answered on a deliver or post stream, read as spec 12 and 15.2 say. */
export interface Receipts {
  /** Ids of every valid ack, in order, repeats kept. */
  acked: string[]
  /** Number of Receipt{ack} frames. */
  acks: number
  rejects: Array<{ idHex: string, code: ErrorCode }>
  error?: ErrorCode
  end: Answer['end']
  /** What breaks the spec: non-canonical receipts, acks that do not open, more than one member set. */
  problems: string[]
}

/**
 * Reads a receiver's frames. Every ack is opened with `sender` (the kit, whose envelopes are
 * acknowledged) and `receiver` (the node under test, which must have signed it).
 */
export function readReceipts (answer: Answer, sender: Uint8Array, receiver: Uint8Array): Receipts {
  const out: Receipts = { acked: [], acks: 0, rejects: [], end: answer.end, problems: [] }
  for (const frame of answer.frames) {
    let receipt: Receipt
    try {
      receipt = decodeCanonical(Receipt, frame, 'receipt')
    } catch (err) {
      out.problems.push(`a receipt that is not canonically encoded: ${(err as Error).message}`)
      continue
    }
    const members = [receipt.ack, receipt.reject, receipt.error].filter(m => m !== undefined).length
    if (members !== 1) out.problems.push(`a receipt with ${members} members set`)
    if (receipt.ack !== undefined) {
      out.acks++
      try {
        const body = openAck(SignedPayload.encode(receipt.ack), sender, receiver)
        if (body.ids.length > MAX_ACK_IDS) out.problems.push(`an ack of ${body.ids.length} ids`)
        out.acked.push(...body.ids.map(hex))
      } catch (err) {
        out.problems.push(`an ack that does not open (spec 12): ${(err as Error).message}`)
      }
    }
    if (receipt.reject !== undefined) out.rejects.push({ idHex: hex(receipt.reject.id), code: codeFromWire(receipt.reject.code) })
    if (receipt.error !== undefined) out.error = codeFromWire(receipt.error.code)
  }
  return out
}

/** One line for a reason: what was answered. */
export function describe (r: Receipts): string {
  const parts = [`${r.acks} ack(s) of [${r.acked.map(id => id.slice(0, 8)).join(', ')}]`]
  if (r.rejects.length > 0) parts.push(`rejects ${r.rejects.map(x => x.code).join(', ')}`)
  if (r.error !== undefined) parts.push(`stream error ${r.error}`)
  parts.push(`stream ${r.end}`)
  if (r.problems.length > 0) parts.push(`problems: ${r.problems.join('; ')}`)
  return parts.join(', ')
}
