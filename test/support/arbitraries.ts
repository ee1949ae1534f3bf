import fc from 'fast-check'
import * as pb from '../../src/protocol/pb/tmtp.js'
import { ALL_CODES } from './assertions.js'
import type { MessageCodec } from '../../src/protocol/messages.js'

/**
 * fast-check arbitraries for every message of spec/tmtp.proto. They generate any value
 * the schema can carry (not only values the protocol accepts): uint64 fields are JS
 * numbers up to Number.MAX_SAFE_INTEGER, strings are any Unicode text without lone
 * surrogates (which UTF-8 cannot carry), error codes are any uint32.
 */

type B = Uint8Array<ArrayBuffer>

/** A record with an ordinary prototype, as a decoder returns it. */
function rec<T> (model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true })
}

export const bytes = (maxLength = 48): fc.Arbitrary<B> => fc.uint8Array({ maxLength })

/** uint64 [jstype = JS_NUMBER]: the edges of each varint length and any safe integer. */
export const uint64 = (): fc.Arbitrary<number> => fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 49, Number.MAX_SAFE_INTEGER),
  fc.maxSafeNat()
)

export const uint32 = (): fc.Arbitrary<number> => fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1),
  fc.nat({ max: 2 ** 32 - 1 })
)

export const text = (maxLength = 24): fc.Arbitrary<string> => fc.oneof(
  fc.string({ unit: 'binary', maxLength }),
  fc.string({ unit: 'grapheme', maxLength })
)

/** An error code as it travels (uint32): known ones and any other value. */
export const wireCode = (): fc.Arbitrary<number> => fc.oneof(fc.nat({ max: ALL_CODES.length - 1 }), uint32())

export const signedPayload = (): fc.Arbitrary<pb.SignedPayload> => rec({ payload: bytes(96), signature: bytes(64) })
export const deviceKey = (): fc.Arbitrary<pb.DeviceKey> => rec({ device: bytes(), x25519: bytes(32), created: uint64() })
export const invite = (): fc.Arbitrary<pb.Invite> => rec({
  version: uint32(),
  site: bytes(),
  addrs: fc.array(bytes(24), { maxLength: 8 }),
  secret: bytes(32),
  expires: uint64(),
  ref: text(),
  siteName: text()
})
export const joinRequest = (): fc.Arbitrary<pb.JoinRequest> => rec({ invite: bytes(96), deviceKey: bytes(96), deviceName: text() })
export const joinResponse = (): fc.Arbitrary<pb.JoinResponse> => rec({ code: wireCode(), memberId: text(), siteName: text(), detail: text() })
export const keyEpoch = (): fc.Arbitrary<pb.KeyEpoch> => rec({
  site: bytes(), device: bytes(), epoch: uint64(), enc: bytes(32), created: uint64(), expires: uint64()
})
export const envelopeHeader = (): fc.Arbitrary<pb.EnvelopeHeader> => rec({
  version: uint32(),
  id: bytes(16),
  sender: bytes(),
  recipient: bytes(),
  epoch: uint64(),
  seq: uint64(),
  created: uint64(),
  expires: uint64()
})
export const envelope = (): fc.Arbitrary<pb.Envelope> => rec({ header: bytes(96), ciphertext: bytes(96) })
export const attachment = (): fc.Arbitrary<pb.Attachment> => rec({
  blob: bytes(16), name: text(), mediaType: text(), size: uint64(), sha256: bytes(32), key: bytes(32)
})
export const content = (): fc.Arbitrary<pb.Content> => rec({
  subject: text(), body: text(64), contentType: text(), thread: bytes(16), replyTo: bytes(16), group: text(), attachments: fc.array(attachment(), { maxLength: 3 })
})
export const blobRequest = (): fc.Arbitrary<pb.BlobRequest> => rec({ blob: bytes(16), first: uint64(), fetched: fc.boolean(), proof: bytes(32) })
export const blobChunk = (): fc.Arbitrary<pb.BlobChunk> => rec({ index: uint64(), sealed: bytes(96) })
export const ackBody = (): fc.Arbitrary<pb.AckBody> => rec({
  sender: bytes(), receiver: bytes(), ids: fc.array(bytes(16), { maxLength: 12 }), time: uint64()
})
export const reject = (): fc.Arbitrary<pb.Reject> => rec({ id: bytes(16), code: wireCode(), detail: text() })
export const streamError = (): fc.Arbitrary<pb.StreamError> => rec({ code: wireCode(), detail: text() })
export const leave = (): fc.Arbitrary<pb.Leave> => rec({ site: bytes(), device: bytes(), time: uint64() })
export const result = (): fc.Arbitrary<pb.Result> => rec({ code: wireCode(), detail: text() })
export const addressRecord = (): fc.Arbitrary<pb.AddressRecord> => rec({
  peer: bytes(), addrs: fc.array(bytes(24), { maxLength: 16 }), seq: uint64(), expires: uint64()
})

/** Each oneof arm of Push, and a Push with no arm set. */
export const pushArms = {
  epoch: (): fc.Arbitrary<pb.Push> => rec({ epoch: signedPayload() }),
  envelope: (): fc.Arbitrary<pb.Push> => rec({ envelope: envelope() }),
  none: (): fc.Arbitrary<pb.Push> => fc.constant({})
}

/** Each oneof arm of BlobReply, and a BlobReply with no arm set. */
export const blobReplyArms = {
  chunk: (): fc.Arbitrary<pb.BlobReply> => rec({ chunk: blobChunk() }),
  error: (): fc.Arbitrary<pb.BlobReply> => rec({ error: streamError() }),
  none: (): fc.Arbitrary<pb.BlobReply> => fc.constant({})
}

/** Each oneof arm of Receipt, and a Receipt with no arm set. */
export const receiptArms = {
  ack: (): fc.Arbitrary<pb.Receipt> => rec({ ack: signedPayload() }),
  reject: (): fc.Arbitrary<pb.Receipt> => rec({ reject: reject() }),
  error: (): fc.Arbitrary<pb.Receipt> => rec({ error: streamError() }),
  none: (): fc.Arbitrary<pb.Receipt> => fc.constant({})
}

export interface CodecCase {
  name: string
  codec: MessageCodec<any>
  arbitrary: () => fc.Arbitrary<any>
}

/** Every message type of the proto (each oneof arm separately) with its codec and arbitrary. */
export const CODEC_CASES: readonly CodecCase[] = [
  { name: 'SignedPayload', codec: pb.SignedPayload, arbitrary: signedPayload },
  { name: 'DeviceKey', codec: pb.DeviceKey, arbitrary: deviceKey },
  { name: 'Invite', codec: pb.Invite, arbitrary: invite },
  { name: 'JoinRequest', codec: pb.JoinRequest, arbitrary: joinRequest },
  { name: 'JoinResponse', codec: pb.JoinResponse, arbitrary: joinResponse },
  { name: 'KeyEpoch', codec: pb.KeyEpoch, arbitrary: keyEpoch },
  { name: 'EnvelopeHeader', codec: pb.EnvelopeHeader, arbitrary: envelopeHeader },
  { name: 'Envelope', codec: pb.Envelope, arbitrary: envelope },
  { name: 'Content', codec: pb.Content, arbitrary: content },
  { name: 'AckBody', codec: pb.AckBody, arbitrary: ackBody },
  { name: 'Reject', codec: pb.Reject, arbitrary: reject },
  { name: 'StreamError', codec: pb.StreamError, arbitrary: streamError },
  { name: 'Push (epoch)', codec: pb.Push, arbitrary: pushArms.epoch },
  { name: 'Push (envelope)', codec: pb.Push, arbitrary: pushArms.envelope },
  { name: 'Push (no arm)', codec: pb.Push, arbitrary: pushArms.none },
  { name: 'Receipt (ack)', codec: pb.Receipt, arbitrary: receiptArms.ack },
  { name: 'Receipt (reject)', codec: pb.Receipt, arbitrary: receiptArms.reject },
  { name: 'Receipt (error)', codec: pb.Receipt, arbitrary: receiptArms.error },
  { name: 'Receipt (no arm)', codec: pb.Receipt, arbitrary: receiptArms.none },
  { name: 'Leave', codec: pb.Leave, arbitrary: leave },
  { name: 'Result', codec: pb.Result, arbitrary: result },
  { name: 'AddressRecord', codec: pb.AddressRecord, arbitrary: addressRecord },
  { name: 'Attachment', codec: pb.Attachment, arbitrary: attachment },
  { name: 'BlobRequest', codec: pb.BlobRequest, arbitrary: blobRequest },
  { name: 'BlobChunk', codec: pb.BlobChunk, arbitrary: blobChunk },
  { name: 'BlobReply (chunk)', codec: pb.BlobReply, arbitrary: blobReplyArms.chunk },
  { name: 'BlobReply (error)', codec: pb.BlobReply, arbitrary: blobReplyArms.error },
  { name: 'BlobReply (no arm)', codec: pb.BlobReply, arbitrary: blobReplyArms.none }
]

/** Every codec of the proto, once each. */
export const ALL_CODECS: ReadonlyArray<{ name: string, codec: MessageCodec<any> }> = [
  ...new Map(CODEC_CASES.map(c => [c.codec, { name: c.name.replace(/ \(.*\)$/, ''), codec: c.codec }])).values()
]

/** Splits bytes into consecutive chunks at the given cut points (any order, duplicates allowed). */
export function splitAt (data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map(c => Math.min(Math.max(c, 0), data.byteLength)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let start = 0
  for (const p of points) {
    chunks.push(data.subarray(start, p))
    start = p
  }
  chunks.push(data.subarray(start))
  return chunks
}
