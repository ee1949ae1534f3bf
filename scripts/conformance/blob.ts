import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'

/**
 * The kit's own reading of spec 15.6 ("Sealing by the site", "Which devices may fetch"),
 * written from the spec text on Node's crypto and not with the node's blob code: the kit
 * checks what a site under test seals and what a member under test proves against this
 * reading, and seals what it serves as a site with it. test/conformance/blob.spec.ts holds
 * it to spec/vectors/blob.json.
 */

/** BLOB_CHUNK_BYTES: bytes of the file in every chunk but the last. */
export const CHUNK_BYTES = 65_536
const TAG_BYTES = 16
const AAD_CONTEXT = 'tmtp/1/blob-chunk'
const PROOF_CONTEXT = 'tmtp/1/blob-proof'

/** ceil(size / 65536): none for an empty file. */
export function chunksOf (size: number): number {
  return Math.ceil(size / CHUNK_BYTES)
}

/** The sealed length of chunk `index` of a file of `size` bytes: its bytes and the tag. */
export function sealedLength (size: number, index: number): number {
  return Math.min(CHUNK_BYTES, size - index * CHUNK_BYTES) + TAG_BYTES
}

/** nonce_i = I2OSP(i, 12). */
export function chunkNonce (index: number): Buffer {
  const nonce = Buffer.alloc(12)
  nonce.writeBigUInt64BE(BigInt(index), 4)
  return nonce
}

/** aad = "tmtp/1/blob-chunk" || 0x00 || uint64be(size). */
export function chunkAad (size: number): Buffer {
  const length = Buffer.alloc(8)
  length.writeBigUInt64BE(BigInt(size))
  return Buffer.concat([Buffer.from(AAD_CONTEXT), Buffer.of(0), length])
}

/** sealed_i: ChaCha20-Poly1305 (RFC 8439) of chunk `index`, the tag appended. */
export function sealChunk (key: Uint8Array, size: number, index: number, chunk: Uint8Array): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(index), { authTagLength: TAG_BYTES })
  cipher.setAAD(chunkAad(size), { plaintextLength: chunk.byteLength })
  return Uint8Array.from(Buffer.concat([cipher.update(chunk), cipher.final(), cipher.getAuthTag()]))
}

/** Chunk `index` opened, or undefined when it does not authenticate or has the wrong length. */
export function openChunk (key: Uint8Array, size: number, index: number, sealed: Uint8Array): Uint8Array | undefined {
  if (index >= chunksOf(size) || sealed.byteLength !== sealedLength(size, index)) return undefined
  const decipher = createDecipheriv('chacha20-poly1305', key, chunkNonce(index), { authTagLength: TAG_BYTES })
  decipher.setAAD(chunkAad(size), { plaintextLength: sealed.byteLength - TAG_BYTES })
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES))
  try {
    return Uint8Array.from(Buffer.concat([decipher.update(sealed.subarray(0, sealed.byteLength - TAG_BYTES)), decipher.final()]))
  } catch {
    return undefined
  }
}

/** Every chunk of `file` sealed under `key`, in order. */
export function sealFile (key: Uint8Array, file: Uint8Array): Uint8Array[] {
  return Array.from({ length: chunksOf(file.byteLength) }, (_, i) => sealChunk(key, file.byteLength, i, file.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)))
}

/** proof = HMAC-SHA256(key, "tmtp/1/blob-proof" || 0x00 || device PeerId). */
export function blobProof (key: Uint8Array, device: Uint8Array): Uint8Array {
  return Uint8Array.from(createHmac('sha256', key).update(PROOF_CONTEXT).update(Buffer.of(0)).update(device).digest())
}

export function sha256 (bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(bytes).digest())
}

/** A file of `size` random bytes. */
export function randomFile (size: number): Uint8Array {
  return Uint8Array.from(randomBytes(size))
}
