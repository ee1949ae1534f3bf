import assert from 'node:assert/strict'
import fc from 'fast-check'
import { blobKey, blobProof, checkBlobProof, chunkCount, chunkLength, newContentKey, openChunk, sealChunk, sealedChunkLength } from '../../src/crypto/index.js'
import { BLOB_CHUNK_BYTES, ErrorCode } from '../../src/protocol/index.js'
import { throwsTmtp } from '../support/assertions.js'

/** Blobs sealed in chunks (spec 15.6); spec/vectors/blob.json holds the bytes, this the rules for any size. */
describe('crypto/blob', () => {
  const sizes = fc.oneof(fc.constantFrom(0, 1, BLOB_CHUNK_BYTES - 1, BLOB_CHUNK_BYTES, BLOB_CHUNK_BYTES + 1, 3 * BLOB_CHUNK_BYTES), fc.nat({ max: 4 * BLOB_CHUNK_BYTES }))

  it('cuts any size into ceil(size / 64 KiB) chunks, each opening to its bytes only in its place and for its size (property)', () => {
    fc.assert(fc.property(sizes, fc.nat(), (size, pick) => {
      const count = chunkCount(size)
      assert.equal(count, Math.ceil(size / BLOB_CHUNK_BYTES))
      let total = 0
      for (let i = 0; i < count; i++) total += chunkLength(size, i)
      assert.equal(total, size)
      if (count === 0) return
      const key = blobKey(newContentKey(), size)
      const index = pick % count
      const plain = new Uint8Array(chunkLength(size, index)).fill(index & 0xff)
      const sealed = sealChunk(key, index, plain)
      assert.equal(sealed.byteLength, sealedChunkLength(size, index))
      assert.deepEqual(openChunk(key, index, sealed), plain)
      if (count > 1 && chunkLength(size, (index + 1) % count) === plain.byteLength) throwsTmtp(() => openChunk(key, (index + 1) % count, sealed), ErrorCode.DECRYPT_FAILED)
      throwsTmtp(() => openChunk(key, count, sealed), ErrorCode.BAD_FRAME)
      throwsTmtp(() => openChunk(key, index, sealed.subarray(1)), ErrorCode.BAD_FRAME)
    }), { numRuns: 60 })
  })

  it('refuses to seal a chunk of the wrong length or place (BAD_FRAME), and a key that is not 32 bytes', () => {
    const key = blobKey(newContentKey(), BLOB_CHUNK_BYTES + 10)
    throwsTmtp(() => sealChunk(key, 1, new Uint8Array(11)), ErrorCode.BAD_FRAME)
    throwsTmtp(() => sealChunk(key, 2, new Uint8Array(10)), ErrorCode.BAD_FRAME)
    throwsTmtp(() => blobKey(new Uint8Array(31), 10), ErrorCode.BAD_FRAME)
    throwsTmtp(() => blobKey(new Uint8Array(32), -1), ErrorCode.BAD_FRAME)
  })

  it('a proof is bound to its key and its device', () => {
    const key = newContentKey()
    const [device, other] = [new Uint8Array(38).fill(1), new Uint8Array(38).fill(2)]
    const proof = blobProof(key, device)
    assert.equal(proof.byteLength, 32)
    assert.ok(checkBlobProof(key, device, proof))
    assert.ok(!checkBlobProof(key, other, proof))
    assert.ok(!checkBlobProof(newContentKey(), device, proof))
    assert.ok(!checkBlobProof(key, device, proof.subarray(1)))
  })
})
