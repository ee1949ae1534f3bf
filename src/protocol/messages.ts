import { compare } from 'uint8arrays/compare'
import { ErrorCode, TmtpError } from './errors.js'
import * as pb from './pb/tmtp.js'
import type { DecodeOptions } from 'protons-runtime'

/** What protons generates for each message: a namespace with encode and decode. */
export interface MessageCodec<T> {
  encode: (obj: Partial<T>) => Uint8Array
  decode: (buf: Uint8Array, opts?: Partial<DecodeOptions<T>>) => T
}

/**
 * Decodes a protobuf message received from outside. Any failure of the decoder (truncated
 * varint, bad wire type, repeated field over its limit) becomes BAD_FRAME, so that callers
 * only ever see a TmtpError.
 */
export function decodeMessage<T> (codec: MessageCodec<T>, bytes: Uint8Array, what: string, opts?: Partial<DecodeOptions<NoInfer<T>>>): T {
  try {
    const flat = FLAT_DECODERS.get(codec)
    if (flat !== undefined) return readFlat(bytes, flat) as T
    const schema = WIRE_SCHEMAS.get(codec)
    if (schema !== undefined) checkWire(bytes, schema)
    return codec.decode(bytes, opts)
  } catch (err) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `malformed ${what}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Decodes a message that must be canonically encoded (spec: "Encoding"): the wrappers
 * Envelope, SignedPayload, Push and Receipt. A protobuf decoder accepts many encodings of
 * one message (a tag with another wire type, fields repeated or out of order, unknown
 * fields); requiring the one canonical encoding makes every altered bit of these frames
 * an error rather than a silent equivalent.
 */
export function decodeCanonical<T> (codec: MessageCodec<T>, bytes: Uint8Array, what: string, opts?: Partial<DecodeOptions<NoInfer<T>>>): T {
  const value = decodeMessage(codec, bytes, what, opts)
  const schema = CANONICAL.get(codec)
  let canonical = false
  if (schema === undefined) {
    // any other message: encoded again and compared (uint8arrays' compare is Buffer.compare on Node)
    const again = codec.encode(value)
    canonical = again.byteLength === bytes.byteLength && compare(again, bytes) === 0
  } else {
    try {
      canonical = isCanonical(bytes, schema)
    } catch {}
  }
  if (!canonical) throw new TmtpError(ErrorCode.BAD_FRAME, `${what} is not canonically encoded`)
  return value
}

/**
 * The header of the envelope a Push frame carries, decoded, without decoding (or copying) the
 * rest: what the site reads back of its own outbox entries is their id, epoch and times, and
 * protons' decoding of the whole frame was a large share of that path's garbage (issue #14).
 * A frame without an envelope, or a malformed one, is BAD_FRAME.
 */
export function pushedEnvelopeHeader (frame: Uint8Array): pb.EnvelopeHeader {
  let header: Uint8Array | undefined
  try {
    let envelope: Uint8Array | undefined
    checkWire(frame, PUSH, (field, value) => { if (field === 2) envelope = value as Uint8Array })
    if (envelope !== undefined) checkWire(envelope, ENVELOPE, (field, value) => { if (field === 1) header = value as Uint8Array })
  } catch (err) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `malformed push frame: ${(err as Error).message}`, { cause: err })
  }
  if (header === undefined) throw new TmtpError(ErrorCode.BAD_FRAME, 'a push frame without an envelope header')
  return decodeMessage(pb.EnvelopeHeader, header, 'envelope header')
}

/** Throws BAD_FRAME unless bytes has exactly the given length. */
export function requireLength (bytes: Uint8Array, length: number, what: string): void {
  if (bytes.byteLength !== length) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `${what} must be ${length} bytes, got ${bytes.byteLength}`)
  }
}

const encoder = new TextEncoder()

/** Throws BAD_FRAME when a string field is longer than its limit in UTF-8 bytes. */
export function requireMaxBytes (value: string, max: number, what: string): void {
  // a UTF-16 code unit is at most 3 UTF-8 bytes: most strings need no encoding to be measured
  if (value.length * 3 <= max) return
  if (value.length > max || encoder.encode(value).byteLength > max) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `${what} exceeds ${max} bytes`)
  }
}

/*
 * The protons decoders read a known field by its declared type whatever wire type the tag
 * says, read a uint64 varint by the length of its value rather than by its bytes, and skip
 * a uint32 varint of 6 to 9 bytes by a fixed 5 bytes. So a frame with a field of the wrong
 * wire type (three bits of every tag) decodes as if it were right, and a non-minimal or
 * overlong varint shifts every field after it: bytes that another implementation reads
 * differently, or refuses. checkWire refuses those frames before protons sees them. It
 * follows spec/tmtp.proto; test/protocol/messages.spec.ts checks it against that file.
 */

const VARINT = 0
const I64 = 1
const LEN = 2
const I32 = 5
/** A uint32 field: a minimal varint of at most 5 bytes whose value fits 32 bits (protons would keep its low 32 bits). */
const U32 = 'u32'
/** A uint64 field: a minimal varint of at most 8 bytes (protons reads values below 2^56). */
const U64 = 'u64'
/** A string field: length-delimited, valid UTF-8 (the protons reader would replace bad bytes silently). */
const STR = 'str'

/** By field number: U32, U64, LEN (bytes), STR or the schema of an embedded message. */
interface WireSchema { readonly [field: number]: typeof U32 | typeof U64 | typeof LEN | typeof STR | WireSchema }

const MAX_UINT32 = 0xffffffff

// ignoreBOM: a leading U+FEFF is part of the text (spec 5), not a mark to strip
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

const SIGNED_PAYLOAD: WireSchema = { 1: LEN, 2: LEN }
const ENVELOPE: WireSchema = { 1: LEN, 2: LEN }
const REJECT: WireSchema = { 1: LEN, 2: U32, 3: STR }
const STREAM_ERROR: WireSchema = { 1: U32, 2: STR }
const ATTACHMENT: WireSchema = { 1: LEN, 2: STR, 3: STR, 4: U64, 5: LEN, 6: LEN }
const BLOB_CHUNK: WireSchema = { 1: U64, 2: LEN }
const PUSH: WireSchema = { 1: SIGNED_PAYLOAD, 2: ENVELOPE }
const RECEIPT: WireSchema = { 1: SIGNED_PAYLOAD, 2: REJECT, 3: STREAM_ERROR }

const WIRE_SCHEMAS = new Map<object, WireSchema>([
  [pb.SignedPayload, SIGNED_PAYLOAD],
  [pb.DeviceKey, { 1: LEN, 2: LEN, 3: U64 }],
  [pb.Invite, { 1: U32, 2: LEN, 3: LEN, 4: LEN, 5: U64, 6: STR, 7: STR }],
  [pb.JoinRequest, { 1: LEN, 2: LEN, 3: STR }],
  [pb.JoinResponse, { 1: U32, 2: STR, 3: STR, 4: STR }],
  [pb.KeyEpoch, { 1: LEN, 2: LEN, 3: U64, 4: LEN, 5: U64, 6: U64 }],
  [pb.EnvelopeHeader, { 1: U32, 2: LEN, 3: LEN, 4: LEN, 5: U64, 6: U64, 7: U64, 8: U64 }],
  [pb.Envelope, ENVELOPE],
  [pb.Content, { 1: STR, 2: STR, 3: STR, 4: LEN, 5: LEN, 6: STR, 7: ATTACHMENT }],
  [pb.Attachment, ATTACHMENT],
  [pb.AckBody, { 1: LEN, 2: LEN, 3: LEN, 4: U64 }],
  [pb.Reject, REJECT],
  [pb.StreamError, STREAM_ERROR],
  [pb.Push, PUSH],
  [pb.Receipt, RECEIPT],
  [pb.Leave, { 1: LEN, 2: LEN, 3: U64 }],
  [pb.Result, { 1: U32, 2: STR }],
  [pb.AddressRecord, { 1: LEN, 2: LEN, 3: U64, 4: U64 }],
  // a bool is a varint as a uint32 is; protons reads any value but 0 as true
  [pb.BlobRequest, { 1: LEN, 2: U64, 3: U32, 4: LEN }],
  [pb.BlobReply, { 1: BLOB_CHUNK, 2: STREAM_ERROR }],
  [pb.BlobChunk, BLOB_CHUNK]
])

/** The offset after the varint readVarint read last (a module variable: no tuple per varint on the hot path). */
let varintEnd = 0

/**
 * Reads a varint of at most maxBytes bytes; returns its value (exact below 2^53) and leaves
 * the next offset in `varintEnd`. `what` names it in an error: a word, or a field's number.
 */
function readVarint (bytes: Uint8Array, pos: number, maxBytes: number, minimal: boolean, what: string | number): number {
  let value = 0
  let scale = 1
  for (let i = 0; i < maxBytes; i++) {
    if (pos + i >= bytes.byteLength) throw new Error(`truncated ${named(what)}`)
    const b = bytes[pos + i]
    value += (b & 0x7f) * scale
    scale *= 128
    if (b < 0x80) {
      if (minimal && i > 0 && b === 0) throw new Error(`${named(what)} is not minimally encoded`)
      varintEnd = pos + i + 1
      return value
    }
  }
  throw new Error(`${named(what)} is longer than ${maxBytes} bytes`)
}

function named (what: string | number): string {
  return typeof what === 'number' ? `field ${what}` : what
}

/** The wrappers decodeCanonical reads canonical off their bytes, and the schemas whose fields are all one oneof (spec/tmtp.proto). */
const CANONICAL = new Map<object, WireSchema>([[pb.SignedPayload, SIGNED_PAYLOAD], [pb.Envelope, ENVELOPE], [pb.Push, PUSH], [pb.Receipt, RECEIPT]])
const ONEOFS = new Set<WireSchema>([PUSH, RECEIPT])

/**
 * Whether bytes that checkWire accepted are exactly the encoding protons writes for the value
 * they decode to, read off the bytes rather than by encoding the value again (which copied
 * each envelope once more on receipt, issue #14): every field known, at most once and in
 * field-number order, tags and lengths as minimal varints, a scalar, string or bytes field
 * left out at its default while an embedded message is written even when empty, and one
 * member at most of a oneof. Throws (as false) on a varint that is not minimal.
 */
function isCanonical (bytes: Uint8Array, schema: WireSchema): boolean {
  let pos = 0
  let last = 0
  while (pos < bytes.byteLength) {
    const field = Math.floor(readVarint(bytes, pos, 5, true, 'tag') / 8)
    pos = varintEnd
    if (field <= last || (last !== 0 && ONEOFS.has(schema))) return false
    last = field
    const declared = schema[field]
    if (declared === undefined) return false
    if (declared === U32 || declared === U64) {
      if (readVarint(bytes, pos, 10, true, field) === 0) return false
      pos = varintEnd
      continue
    }
    const length = readVarint(bytes, pos, 5, true, 'length')
    const from = varintEnd
    pos = from + length
    if (typeof declared === 'object' ? !isCanonical(bytes.subarray(from, pos), declared) : length === 0) return false
  }
  return true
}

/*
 * The messages of the per-envelope path that hold no embedded message (the Content, the
 * EnvelopeHeader) are decoded by checkWire's own pass, with the values it reads anyway:
 * strings through the native TextDecoder that checks them, where protons would decode them
 * again in JavaScript (~5 µs for a 1 KiB body). Each has a hand-written value with every field
 * at its default (one object shape) and a setter by field number: fixed property stores,
 * where setting fields by a computed name cost ~1 µs per EnvelopeHeader (issue #14). Property
 * names as protons generates them; test/protocol/messages.spec.ts holds these decodes to
 * protons' for any message.
 */
interface FlatDecoder<T> {
  schema: WireSchema
  /** A value with every field at its default. */
  make: () => T
  /** Sets a declared field from checkWire's value; the last one read wins, as in protobuf. */
  set: (out: T, field: number, value: number | string | Uint8Array) => void
}

const EMPTY: Uint8Array<ArrayBuffer> = new Uint8Array(0)

const CONTENT: FlatDecoder<pb.Content> = {
  schema: WIRE_SCHEMAS.get(pb.Content) as WireSchema,
  make: () => ({ subject: '', body: '', contentType: '', thread: EMPTY, replyTo: EMPTY, group: '', attachments: [] }),
  set: (c, field, value) => {
    switch (field) {
      case 1: c.subject = value as string; break
      case 2: c.body = value as string; break
      case 3: c.contentType = value as string; break
      case 4: c.thread = value as Uint8Array<ArrayBuffer>; break
      case 5: c.replyTo = value as Uint8Array<ArrayBuffer>; break
      case 6: c.group = value as string; break
      // checkWire checked the attachment's own fields
      case 7: c.attachments.push(pb.Attachment.decode(value as Uint8Array)); break
    }
  }
}

const ENVELOPE_HEADER: FlatDecoder<pb.EnvelopeHeader> = {
  schema: WIRE_SCHEMAS.get(pb.EnvelopeHeader) as WireSchema,
  make: () => ({ version: 0, id: EMPTY, sender: EMPTY, recipient: EMPTY, epoch: 0, seq: 0, created: 0, expires: 0 }),
  set: (h, field, value) => {
    switch (field) {
      case 1: h.version = value as number; break
      case 2: h.id = value as Uint8Array<ArrayBuffer>; break
      case 3: h.sender = value as Uint8Array<ArrayBuffer>; break
      case 4: h.recipient = value as Uint8Array<ArrayBuffer>; break
      case 5: h.epoch = value as number; break
      case 6: h.seq = value as number; break
      case 7: h.created = value as number; break
      case 8: h.expires = value as number; break
    }
  }
}

const FLAT_DECODERS = new Map<object, FlatDecoder<any>>([[pb.Content, CONTENT], [pb.EnvelopeHeader, ENVELOPE_HEADER]])

/** checkWire, then the declared fields (absent ones at their defaults). */
function readFlat<T> (bytes: Uint8Array, decoder: FlatDecoder<T>): T {
  const out = decoder.make()
  checkWire(bytes, decoder.schema, (field, value) => { decoder.set(out, field, value) })
  return out
}

/**
 * Throws unless every field has the wire type of its declaration (unknown fields: any but
 * groups); gives each declared field's value to `onField` (an embedded message as its bytes).
 */
function checkWire (bytes: Uint8Array, schema: WireSchema, onField?: (field: number, value: number | string | Uint8Array) => void): void {
  let pos = 0
  while (pos < bytes.byteLength) {
    const tag = readVarint(bytes, pos, 5, false, 'tag')
    const start = varintEnd
    const field = Math.floor(tag / 8)
    const wireType = tag % 8
    if (field < 1 || field > 0x1fffffff) throw new Error(`field number ${field} is out of range`)
    const declared = schema[field]
    const expected = declared === undefined ? wireType : declared === U32 || declared === U64 ? VARINT : LEN
    if (wireType !== expected) throw new Error(`field ${field} has wire type ${wireType}, not ${expected}`)
    switch (wireType) {
      case VARINT: {
        if (declared === undefined) {
          readVarint(bytes, start, 10, false, 'varint')
          pos = varintEnd
          break
        }
        const value = readVarint(bytes, start, declared === U32 ? 5 : 8, true, field)
        const next = varintEnd
        if (declared === U32 && value > MAX_UINT32) throw new Error(`field ${field} is above 2^32 - 1`)
        // protons' uint64Number refuses these too: the value would not be exact
        if (declared === U64 && value > Number.MAX_SAFE_INTEGER) throw new Error(`field ${field} is above 2^53 - 1`)
        onField?.(field, value)
        pos = next
        break
      }
      case I64:
        pos = start + 8
        break
      case I32:
        pos = start + 4
        break
      case LEN: {
        const length = readVarint(bytes, start, 5, false, 'length')
        const from = varintEnd
        pos = from + length
        if (pos > bytes.byteLength) break
        if (typeof declared === 'object') {
          checkWire(bytes.subarray(from, pos), declared)
          onField?.(field, bytes.subarray(from, pos))
        } else if (declared === STR) {
          const text = utf8.decode(bytes.subarray(from, pos))
          onField?.(field, text)
        } else if (declared === LEN) onField?.(field, bytes.subarray(from, pos))
        break
      }
      default:
        throw new Error(`wire type ${wireType} is not allowed`)
    }
    if (pos > bytes.byteLength) throw new Error(`field ${field} runs past the end`)
  }
}
