import { randomBytes } from 'node:crypto'
import * as varint from 'uint8-varint'
import { messageNonce } from '../../src/crypto/envelope.js'
import { signingInput } from '../../src/crypto/signing.js'
import type { Ed25519Signer } from '../../src/crypto/ed25519.js'
import type { DirectionKey } from '../../src/crypto/epoch.js'
import { encodeFrame, encodeFrames } from '../../src/protocol/framing.js'
import { codeToWire, type ErrorCode } from '../../src/protocol/errors.js'
import { BlobReply, BlobRequest, Content, Envelope, EnvelopeHeader, Invite, Push, Receipt, SignedPayload, type Attachment } from '../../src/protocol/pb/tmtp.js'
import type { SigningContext } from '../../src/protocol/constants.js'

/**
 * Byte-level crafting of what the kit writes: frames valid and invalid. Nothing here checks
 * a value before encoding it (the project's own encoders refuse most of what the kit must
 * send), so every limit and every malformed form can be put on the wire.
 */

export { encodeFrame as frame, encodeFrames as frames }

export function concat (...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts))
}

export function varintOf (value: number): Uint8Array {
  return varint.encode(value)
}

export function newId (): Uint8Array {
  return new Uint8Array(randomBytes(16))
}

export function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

/** A copy of `bytes` with one bit of byte `at` flipped (negative: from the end). */
export function flip (bytes: Uint8Array, at: number): Uint8Array {
  const out = Uint8Array.from(bytes)
  out[at < 0 ? out.byteLength + at : at] ^= 0x01
  return out
}

export interface HeaderFields {
  version?: number
  id: Uint8Array
  sender: Uint8Array
  recipient: Uint8Array
  epoch: number
  seq: number
  created?: number
  expires?: number
}

export function encodeHeader (h: HeaderFields): Uint8Array {
  return EnvelopeHeader.encode({ version: h.version ?? 1, created: h.created ?? Date.now(), expires: h.expires ?? 0, ...h } as EnvelopeHeader)
}

/** Seals `content` (encoded Content bytes) under `key` with `headerBytes` as AAD (spec 11.3). */
export function sealRaw (key: DirectionKey, headerBytes: Uint8Array, seq: number, content: Uint8Array): Envelope {
  return { header: headerBytes, ciphertext: key.aead.seal(messageNonce(key.baseNonce, seq), headerBytes, content) } as Envelope
}

export function seal (key: DirectionKey, h: HeaderFields, content: Uint8Array): Envelope {
  return sealRaw(key, encodeHeader(h), h.seq, content)
}

/** An Envelope of the given parts (any bytes). */
export function envelopeOf (header: Uint8Array, ciphertext: Uint8Array): Envelope {
  return { header, ciphertext } as Envelope
}

export interface ContentFields {
  subject?: string
  body?: string
  contentType?: string
  thread?: Uint8Array
  replyTo?: Uint8Array
  attachments?: Attachment[]
}

/** A Content, encoded without the limit checks (spec 11.2). */
export function content (c: ContentFields): Uint8Array {
  return Content.encode({ subject: '', body: '', contentType: '', thread: new Uint8Array(0), replyTo: new Uint8Array(0), ...c } as Content)
}

/** A BlobRequest (spec 15.6) of any field values. */
export function blobRequest (r: { blob: Uint8Array, first?: number, fetched?: boolean, proof: Uint8Array }): Uint8Array {
  return BlobRequest.encode({ first: 0, fetched: false, ...r } as BlobRequest)
}

export function blobChunk (index: number, sealed: Uint8Array): Uint8Array {
  return BlobReply.encode({ chunk: { index, sealed } as never })
}

export function blobError (code: ErrorCode): Uint8Array {
  return BlobReply.encode({ error: { code: codeToWire(code), detail: '' } })
}

/** A Content whose subject is the given bytes (invalid UTF-8 included). */
export function contentWithSubjectBytes (subject: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x0a), varintOf(subject.byteLength), subject)
}

export function pushEnvelope (envelope: Envelope): Uint8Array {
  return Push.encode({ envelope })
}

export function pushEpoch (signed: Uint8Array): Uint8Array {
  return Push.encode({ epoch: SignedPayload.decode(signed) })
}

export function receiptAck (signed: Uint8Array): Uint8Array {
  return Receipt.encode({ ack: SignedPayload.decode(signed) })
}

export function receiptReject (id: Uint8Array, code: ErrorCode): Uint8Array {
  return Receipt.encode({ reject: { id, code: codeToWire(code), detail: '' } as never })
}

export function receiptError (code: ErrorCode): Uint8Array {
  return Receipt.encode({ error: { code: codeToWire(code), detail: '' } })
}

/** SignedPayload bytes of `payload` signed by `signer` under `context`, whatever the payload holds. */
export function signRaw (signer: Ed25519Signer, context: SigningContext, payload: Uint8Array): Uint8Array {
  return SignedPayload.encode({ payload, signature: signer.sign(signingInput(context, payload)) } as SignedPayload)
}

/** A SignedPayload with `signature` in place of the real one. */
export function withSignature (signed: Uint8Array, signature: Uint8Array): Uint8Array {
  return SignedPayload.encode({ payload: SignedPayload.decode(signed).payload, signature } as SignedPayload)
}

/** An invite payload with `version` written as the given varint bytes (uint32 overflow included). */
export function inviteWithVersionBytes (invite: Invite, versionVarint: Uint8Array): Uint8Array {
  return withVersionBytes(Invite.encode({ ...invite, version: 1 }), versionVarint)
}

/** An encoding whose `version` (field 1 = 1, written first: 08 01) is replaced by the given varint. */
export function withVersionBytes (encoded: Uint8Array, versionVarint: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x08), versionVarint, encoded.subarray(2))
}

/** The minimal varint of `value` written one byte longer: continuation bit set, then 0x00. */
export function nonMinimalVarint (value: number): Uint8Array {
  const v = varintOf(value)
  v[v.byteLength - 1] |= 0x80
  return concat(v, Uint8Array.of(0x00))
}

/** The varint of 2^32 + 1: its low 32 bits read as 1 by a decoder that truncates (spec 5). */
export const UINT32_OVERFLOW_ONE = Uint8Array.of(0x81, 0x80, 0x80, 0x80, 0x10)

/** A length prefix one above `max`, followed by some of the body it announces (spec 14). */
export function oversizeFrame (max: number): Uint8Array {
  return concat(varintOf(max + 1), new Uint8Array(1024).fill(0xaa))
}

/** A frame whose length prefix is not minimal: 1 written in two bytes (spec 14). */
export const NON_MINIMAL_PREFIX = Uint8Array.of(0x81, 0x00, 0x00)

/** The first part of a frame: the stream ends inside it (spec 14, a truncated frame). */
export function truncated (frameBytes: Uint8Array): Uint8Array {
  return frameBytes.subarray(0, frameBytes.byteLength - 1)
}

/**
 * Non-canonical encodings of one Push{envelope} that a lenient decoder reads as the same
 * value (spec 5): each MUST be refused as BAD_FRAME.
 */
export function nonCanonicalPushes (envelope: Envelope): Array<[string, Uint8Array]> {
  const push = pushEnvelope(envelope)
  const headerField = concat(Uint8Array.of(0x0a), varintOf(envelope.header.byteLength), envelope.header)
  const ciphertextField = concat(Uint8Array.of(0x12), varintOf(envelope.ciphertext.byteLength), envelope.ciphertext)
  const unordered = concat(ciphertextField, headerField)
  const envelopeBytes = Envelope.encode(envelope)
  return [
    ['an unknown field in the Push', concat(push, Uint8Array.of(0x18, 0x01))],
    ['the Envelope\'s fields out of order', concat(Uint8Array.of(0x12), varintOf(unordered.byteLength), unordered)],
    ['an unknown field in the Envelope', concat(Uint8Array.of(0x12), varintOf(envelopeBytes.byteLength + 2), envelopeBytes, Uint8Array.of(0x18, 0x01))],
    ['the Envelope\'s length as a non-minimal varint', concat(Uint8Array.of(0x12), nonMinimalVarint(envelopeBytes.byteLength), envelopeBytes)]
  ]
}

/** A Push with two members of its oneof set: an empty epoch, then the envelope (spec 5). */
export function pushWithTwoMembers (envelope: Envelope): Uint8Array {
  return concat(Uint8Array.of(0x0a, 0x00), pushEnvelope(envelope))
}

/** Frames of one write: each body length-prefixed. */
export function framed (...bodies: Uint8Array[]): Uint8Array {
  return encodeFrames(bodies)
}
