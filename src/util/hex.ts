/**
 * Lower-case hex of bytes, for the ids and keys the node names in maps and records. uint8arrays'
 * `toString(bytes, 'base16')` goes through multiformats' generic base encoder, which builds the
 * string a character at a time: on the delivery path (every message id, on both ends, and every
 * acknowledged id) that was ~0.65 µs and a few hundred bytes of garbage per call, among the
 * largest allocators of the path (docs/BENCHMARKS.md, issue #14 row 9). Here the ASCII digits
 * are written into a scratch buffer and read as one string by a Latin-1 TextDecoder (Node.js
 * and browsers alike): ~0.3 µs and one flat string.
 */

const DIGITS = '0123456789abcdef'
/** ASCII codes of each byte's two digits. */
const HIGH = new Uint8Array(256)
const LOW = new Uint8Array(256)
for (let b = 0; b < 256; b++) {
  HIGH[b] = DIGITS.charCodeAt(b >> 4)
  LOW[b] = DIGITS.charCodeAt(b & 0x0f)
}

const latin1 = new TextDecoder('latin1')
let scratch = new Uint8Array(128)

export function toHex (bytes: Uint8Array): string {
  const length = bytes.byteLength * 2
  // only ever grows: the longest hex the node makes is a signed epoch record (< 1 KiB)
  if (scratch.byteLength < length) scratch = new Uint8Array(length)
  for (let i = 0; i < bytes.byteLength; i++) {
    scratch[2 * i] = HIGH[bytes[i]]
    scratch[2 * i + 1] = LOW[bytes[i]]
  }
  return latin1.decode(scratch.subarray(0, length))
}
