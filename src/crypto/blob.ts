import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { provider } from '#crypto-provider'
import { BLOB_CHUNK_BYTES, BLOB_CHUNK_CONTEXT, BLOB_PROOF_CONTEXT, CONTENT_KEY_BYTES, ErrorCode, TmtpError } from '../protocol/index.js'
import type { AeadKey } from './provider.js'

/**
 * Attachments' blobs (spec 15.6, "/tmtp/blob/1.0.0"): a file is sealed once, under a content
 * key of its own, in chunks of BLOB_CHUNK_BYTES, each with ChaCha20-Poly1305 under
 * nonce = I2OSP(index, 12) and aad = "tmtp/1/blob-chunk" || 0x00 || uint64be(size). The key
 * is random per blob and never seals anything else, so the chunk index alone keeps nonces
 * unique; the size in the AAD binds every chunk to the one length the sealed Content states,
 * and the index in the nonce fixes each chunk's place, so a chunk cannot be moved, cut or
 * taken from a copy of another length.
 */

const TAG_BYTES = 16
const NONCE_BYTES = 12

/** A blob's content key, prepared once for all of its chunks. */
export interface BlobKey {
  /** The size of the file, as the AAD of every chunk states it. */
  readonly size: number
  readonly aead: AeadKey
  readonly aad: Uint8Array
}

/** A fresh random content key (spec 15.6: one per blob). */
export function newContentKey (): Uint8Array<ArrayBuffer> {
  return provider.randomBytes(CONTENT_KEY_BYTES)
}

export function blobKey (key: Uint8Array, size: number): BlobKey {
  if (key.byteLength !== CONTENT_KEY_BYTES) throw new TmtpError(ErrorCode.BAD_FRAME, `a content key is ${CONTENT_KEY_BYTES} bytes`)
  if (!Number.isSafeInteger(size) || size < 0) throw new TmtpError(ErrorCode.BAD_FRAME, 'a blob size is an integer from 0 to 2^53 - 1')
  return { size, aead: provider.chacha20Poly1305(key), aad: chunkAad(size) }
}

/** The number of chunks of a file of `size` bytes: 0 for an empty file. */
export function chunkCount (size: number): number {
  return Math.ceil(size / BLOB_CHUNK_BYTES)
}

/** The bytes of the file that chunk `index` holds. */
export function chunkLength (size: number, index: number): number {
  return Math.min(BLOB_CHUNK_BYTES, size - index * BLOB_CHUNK_BYTES)
}

/** The sealed length of chunk `index`: its bytes and the tag. */
export function sealedChunkLength (size: number, index: number): number {
  return chunkLength(size, index) + TAG_BYTES
}

/** I2OSP(index, 12): the chunk's nonce. */
export function chunkNonce (index: number): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES)
  new DataView(nonce.buffer).setBigUint64(NONCE_BYTES - 8, BigInt(index))
  return nonce
}

/** "tmtp/1/blob-chunk" || 0x00 || uint64be(size). */
export function chunkAad (size: number): Uint8Array {
  const context = new TextEncoder().encode(BLOB_CHUNK_CONTEXT)
  const aad = new Uint8Array(context.byteLength + 1 + 8)
  aad.set(context)
  new DataView(aad.buffer).setBigUint64(context.byteLength + 1, BigInt(size))
  return aad
}

/**
 * A device's proof that it holds a blob's key (spec 15.6): HMAC-SHA256(key, "tmtp/1/blob-proof"
 * || 0x00 || device PeerId). Only the envelopes listing the blob carry the key, so only their
 * recipients can make it; the PeerId binds it to the device that asks.
 */
export function blobProof (key: Uint8Array, device: Uint8Array): Uint8Array {
  const context = new TextEncoder().encode(BLOB_PROOF_CONTEXT)
  const input = new Uint8Array(context.byteLength + 1 + device.byteLength)
  input.set(context)
  input.set(device, context.byteLength + 1)
  return hmac(sha256, key, input)
}

/** Whether `proof` is the device's proof for the key (compared in constant time). */
export function checkBlobProof (key: Uint8Array, device: Uint8Array, proof: Uint8Array): boolean {
  const expected = blobProof(key, device)
  if (proof.byteLength !== expected.byteLength) return false
  let difference = 0
  for (let i = 0; i < expected.byteLength; i++) difference |= expected[i] ^ proof[i]
  return difference === 0
}

function checkIndex (key: BlobKey, index: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= chunkCount(key.size)) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `chunk ${index} is not a chunk of a blob of ${key.size} bytes`)
  }
}

/** Seals chunk `index` of the file; `plaintext` must be exactly that chunk's bytes. */
export function sealChunk (key: BlobKey, index: number, plaintext: Uint8Array): Uint8Array {
  checkIndex(key, index)
  if (plaintext.byteLength !== chunkLength(key.size, index)) throw new TmtpError(ErrorCode.BAD_FRAME, `chunk ${index} must hold ${chunkLength(key.size, index)} bytes`)
  return key.aead.seal(chunkNonce(index), key.aad, plaintext)
}

/**
 * Opens chunk `index`: BAD_FRAME if it is not a chunk of this blob or has the wrong length,
 * DECRYPT_FAILED if it does not authenticate (altered, another blob's, another place's).
 */
export function openChunk (key: BlobKey, index: number, sealed: Uint8Array): Uint8Array {
  checkIndex(key, index)
  if (sealed.byteLength !== sealedChunkLength(key.size, index)) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `sealed chunk ${index} must be ${sealedChunkLength(key.size, index)} bytes, got ${sealed.byteLength}`)
  }
  try {
    return key.aead.open(chunkNonce(index), key.aad, sealed)
  } catch (err) {
    throw new TmtpError(ErrorCode.DECRYPT_FAILED, `chunk ${index} does not authenticate`, { cause: err })
  }
}
