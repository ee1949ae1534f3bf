import * as varint from 'uint8-varint'
import * as pb from './pb/tmtp.js'

/*
 * The EnvelopeHeader (every envelope's AAD) written where it goes: the bytes protons writes
 * for it, straight into the frame that carries it, where protons' generic writer cost ~1 µs
 * and a buffer of its own per envelope sealed (issue #14). test/protocol/envelope-header.spec.ts
 * holds it to protons' encoding for any header.
 */

/** The length of the encoded EnvelopeHeader, for writeEnvelopeHeader. */
export function envelopeHeaderLength (header: pb.EnvelopeHeader): number {
  return varintField(header.version) + fieldLength(header.id.byteLength) + fieldLength(header.sender.byteLength) + fieldLength(header.recipient.byteLength) +
    varintField(header.epoch) + varintField(header.seq) + varintField(header.created) + varintField(header.expires)
}

/**
 * Writes the encoded EnvelopeHeader (as protons' EnvelopeHeader.encode) into `out` at `pos`;
 * returns the offset after it. `out` holds envelopeHeaderLength(header) bytes from `pos`.
 */
export function writeEnvelopeHeader (header: pb.EnvelopeHeader, out: Uint8Array, pos: number): number {
  pos = writeVarintField(out, pos, 0x08, header.version)
  pos = writeBytesField(out, pos, 0x12, header.id)
  pos = writeBytesField(out, pos, 0x1a, header.sender)
  pos = writeBytesField(out, pos, 0x22, header.recipient)
  pos = writeVarintField(out, pos, 0x28, header.epoch)
  pos = writeVarintField(out, pos, 0x30, header.seq)
  pos = writeVarintField(out, pos, 0x38, header.created)
  return writeVarintField(out, pos, 0x40, header.expires)
}

/** A one-byte tag and a length (the value's bytes follow): the position of the value. */
export function writeLength (out: Uint8Array, pos: number, tag: number, length: number): number {
  out[pos] = tag
  return writeVarint(out, pos + 1, length)
}

/** Writes value as a varint at pos; returns the offset after it. */
function writeVarint (out: Uint8Array, pos: number, value: number): number {
  varint.encode(value, out, pos)
  return pos + varint.encodingLength(value)
}

/** A length-delimited field of `length` bytes with a one-byte tag, left out when empty (proto3). */
function fieldLength (length: number): number {
  return length === 0 ? 0 : 1 + varint.encodingLength(length) + length
}

function varintField (value: number): number {
  return value === 0 ? 0 : 1 + varint.encodingLength(value)
}

function writeVarintField (out: Uint8Array, pos: number, tag: number, value: number): number {
  if (value === 0) return pos
  out[pos] = tag
  return writeVarint(out, pos + 1, value)
}

function writeBytesField (out: Uint8Array, pos: number, tag: number, value: Uint8Array): number {
  if (value.byteLength === 0) return pos
  pos = writeLength(out, pos, tag, value.byteLength)
  out.set(value, pos)
  return pos + value.byteLength
}
