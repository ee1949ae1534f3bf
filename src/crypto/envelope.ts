import { allocUnsafe } from 'uint8arrays/alloc'
import * as varint from 'uint8-varint'
import { equalBytes, publicKeyFromPeerId } from './ed25519.js'
import { BLOB_ID_BYTES, Content, CONTENT_KEY_BYTES, decodeCanonical, decodeMessage, DEFAULT_CONTENT_TYPE, envelopeHeaderLength, DEFAULT_MEDIA_TYPE, Envelope, EnvelopeHeader, ErrorCode, MAX_ATTACHMENT_NAME_BYTES, MAX_ATTACHMENTS, MAX_BODY_BYTES, MAX_CLOCK_SKEW_MS, MAX_CONTENT_TYPE_BYTES, MAX_GROUP_NAME_BYTES, MAX_MEDIA_TYPE_BYTES, MAX_SUBJECT_BYTES, MESSAGE_ID_BYTES, requireLength, requireMaxBytes, SHA256_BYTES, TmtpError, WIRE_VERSION, writeEnvelopeHeader, writeLength, type Attachment } from '../protocol/index.js'
import type { DirectionKey } from './epoch.js'

/**
 * Envelopes (spec: "Envelopes"): the encoded header travels as bytes and is the AAD as it
 * is, so nobody re-encodes it; the plaintext Content is sealed with ChaCha20-Poly1305
 * under the epoch's key for the envelope's direction, with nonce = baseNonce XOR seq.
 */

const TAG_BYTES = 16
const NONCE_BYTES = 12
/** Protobuf tags (field number << 3 | 2, length-delimited) of Push.envelope, Envelope.header and Envelope.ciphertext. */
const PUSH_ENVELOPE_TAG = 0x12
const ENVELOPE_HEADER_TAG = 0x0a
const ENVELOPE_CIPHERTEXT_TAG = 0x12

export interface Opened {
  header: EnvelopeHeader
  content: Content
}

/** baseNonce XOR seq as a 12-byte big-endian integer; seq is a safe integer (< 2^53). */
export function messageNonce (baseNonce: Uint8Array, seq: number): Uint8Array {
  const nonce = Uint8Array.from(baseNonce)
  // two 32-bit halves instead of a BigInt: this runs for every envelope sealed and opened
  const high = Math.floor(seq / 0x1_0000_0000)
  const low = seq >>> 0
  for (let i = 0; i < 4; i++) {
    nonce[NONCE_BYTES - 8 + i] ^= (high >>> (24 - 8 * i)) & 0xff
    nonce[NONCE_BYTES - 4 + i] ^= (low >>> (24 - 8 * i)) & 0xff
  }
  return nonce
}

export function encodeContent (content: Partial<Content>): Uint8Array {
  const value: Content = {
    subject: content.subject ?? '',
    body: content.body ?? '',
    contentType: content.contentType ?? '',
    thread: content.thread ?? new Uint8Array(0),
    replyTo: content.replyTo ?? new Uint8Array(0),
    group: content.group ?? '',
    attachments: content.attachments ?? []
  }
  checkContent(value)
  return Content.encode(value)
}

function checkContent (content: Content): void {
  requireMaxBytes(content.subject, MAX_SUBJECT_BYTES, 'subject')
  requireMaxBytes(content.body, MAX_BODY_BYTES, 'body')
  requireMaxBytes(content.contentType, MAX_CONTENT_TYPE_BYTES, 'content type')
  requireMaxBytes(content.group, MAX_GROUP_NAME_BYTES, 'group')
  for (const [field, id] of [['thread', content.thread], ['reply_to', content.replyTo]] as const) {
    if (id.byteLength !== 0) requireLength(id, MESSAGE_ID_BYTES, field)
  }
  if (content.attachments.length > MAX_ATTACHMENTS) throw new TmtpError(ErrorCode.BAD_FRAME, `a message has at most ${MAX_ATTACHMENTS} attachments`)
  for (const attachment of content.attachments) checkAttachment(attachment)
}

/** spec 11.2: an attachment's fields within their limits (its size is a uint64, checked when decoded). */
function checkAttachment (attachment: Attachment): void {
  requireLength(attachment.blob, BLOB_ID_BYTES, 'attachment blob')
  if (attachment.name === '') throw new TmtpError(ErrorCode.BAD_FRAME, 'an attachment has a name')
  requireMaxBytes(attachment.name, MAX_ATTACHMENT_NAME_BYTES, 'attachment name')
  requireMaxBytes(attachment.mediaType, MAX_MEDIA_TYPE_BYTES, 'attachment media type')
  requireLength(attachment.sha256, SHA256_BYTES, 'attachment sha256')
  requireLength(attachment.key, CONTENT_KEY_BYTES, 'attachment key')
}

export function decodeContent (bytes: Uint8Array): Content {
  const content = decodeMessage(Content, bytes, 'content')
  checkContent(content)
  if (content.contentType === '') content.contentType = DEFAULT_CONTENT_TYPE
  for (const attachment of content.attachments) if (attachment.mediaType === '') attachment.mediaType = DEFAULT_MEDIA_TYPE
  return content
}

/** Seals encoded Content under `key`; returns the encoded Envelope. */
export function sealEnvelope (key: DirectionKey, header: EnvelopeHeader, content: Uint8Array): Uint8Array {
  return Envelope.encode(sealEnvelopeMessage(key, header, content))
}

/** As sealEnvelope, but returns the Envelope message, to embed in a frame without re-decoding. */
export function sealEnvelopeMessage (key: DirectionKey, header: EnvelopeHeader, content: Uint8Array): Envelope {
  checkHeader(header)
  const headerBytes = EnvelopeHeader.encode(header)
  return { header: headerBytes, ciphertext: key.aead.seal(messageNonce(key.baseNonce, header.seq), headerBytes, content) }
}

/**
 * Seals encoded Content under `key` into one encoded Push{envelope} frame, the bytes protons
 * writes for it, with the header written and the ciphertext sealed in place: the site seals
 * every copy this way, and building the frame around them saves encoding the header, the
 * envelope and the frame apart (three more buffers and copies per message, issue #14). The
 * frame comes from the platform's buffer pool (Node's Buffer pool): every byte of it is written.
 */
export function sealPushFrame (key: DirectionKey, header: EnvelopeHeader, content: Uint8Array): Uint8Array<ArrayBuffer> {
  checkHeader(header)
  const headerLength = envelopeHeaderLength(header)
  const sealedLength = content.byteLength + TAG_BYTES
  // Envelope { 1: header, 2: ciphertext } inside Push { 2: envelope }: a tag byte and a length each
  const envelopeLength = 1 + varint.encodingLength(headerLength) + headerLength + 1 + varint.encodingLength(sealedLength) + sealedLength
  const frame = allocUnsafe(1 + varint.encodingLength(envelopeLength) + envelopeLength) as Uint8Array<ArrayBuffer>
  let pos = writeLength(frame, 0, PUSH_ENVELOPE_TAG, envelopeLength)
  pos = writeLength(frame, pos, ENVELOPE_HEADER_TAG, headerLength)
  const headerAt = pos
  pos = writeEnvelopeHeader(header, frame, pos)
  pos = writeLength(frame, pos, ENVELOPE_CIPHERTEXT_TAG, sealedLength)
  key.aead.seal(messageNonce(key.baseNonce, header.seq), frame.subarray(headerAt, headerAt + headerLength), content, frame.subarray(pos))
  return frame
}

export interface ParsedEnvelope {
  header: EnvelopeHeader
  headerBytes: Uint8Array
  ciphertext: Uint8Array
}

/** Decodes an envelope and checks its header's form: BAD_FRAME or UNSUPPORTED_VERSION. */
export function parseEnvelope (bytes: Uint8Array | Envelope): ParsedEnvelope {
  const envelope = bytes instanceof Uint8Array ? decodeCanonical(Envelope, bytes, 'envelope') : bytes
  const header = decodeMessage(EnvelopeHeader, envelope.header, 'envelope header')
  if (header.version !== WIRE_VERSION) throw new TmtpError(ErrorCode.UNSUPPORTED_VERSION, `envelope version ${header.version} is not supported`)
  checkHeader(header)
  if (envelope.ciphertext.byteLength < TAG_BYTES) throw new TmtpError(ErrorCode.BAD_FRAME, 'ciphertext shorter than its tag')
  return { header, headerBytes: envelope.header, ciphertext: envelope.ciphertext }
}

function checkHeader (header: EnvelopeHeader): void {
  requireLength(header.id, MESSAGE_ID_BYTES, 'message id')
  publicKeyFromPeerId(header.sender)
  publicKeyFromPeerId(header.recipient)
  if (!Number.isSafeInteger(header.seq) || header.seq < 1) throw new TmtpError(ErrorCode.BAD_FRAME, 'sequence numbers start at 1')
  if (!Number.isSafeInteger(header.epoch) || header.epoch < 1) throw new TmtpError(ErrorCode.BAD_FRAME, 'epoch numbers start at 1')
}

export interface CheckEnvelopeOptions {
  /** The authenticated remote peer: the envelope must come from it. */
  sender: Uint8Array
  /** This node. */
  recipient: Uint8Array
  now: number
}

/**
 * The receiver's checks before it looks up a key (spec: "Receiving an envelope", steps
 * 4, 5, 7 and 8): WRONG_RECIPIENT, WRONG_SIGNER, EXPIRED, BAD_TIMESTAMP.
 */
export function checkEnvelopeHeader (header: EnvelopeHeader, opts: CheckEnvelopeOptions): void {
  if (!equalBytes(header.recipient, opts.recipient)) throw new TmtpError(ErrorCode.WRONG_RECIPIENT, 'envelope is for another node')
  if (!equalBytes(header.sender, opts.sender)) throw new TmtpError(ErrorCode.WRONG_SIGNER, 'envelope names another sender than the peer that sent it')
  if (header.expires !== 0 && opts.now >= header.expires) throw new TmtpError(ErrorCode.EXPIRED, 'message has expired')
  if (header.created > opts.now + MAX_CLOCK_SKEW_MS) throw new TmtpError(ErrorCode.BAD_TIMESTAMP, 'message was created in the future')
}

/** Authenticates and decrypts: DECRYPT_FAILED if the header or ciphertext was altered or the key is wrong. */
export function decryptEnvelope (key: DirectionKey, parsed: ParsedEnvelope): Content {
  return decodeContent(decryptContent(key, parsed))
}

export function decryptContent (key: DirectionKey, parsed: ParsedEnvelope): Uint8Array {
  try {
    return key.aead.open(messageNonce(key.baseNonce, parsed.header.seq), parsed.headerBytes, parsed.ciphertext)
  } catch (err) {
    throw new TmtpError(ErrorCode.DECRYPT_FAILED, 'envelope does not authenticate', { cause: err })
  }
}
