import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { blobProof, chunkAad, chunkNonce, chunksOf, openChunk, sealFile, sha256 } from '../../scripts/conformance/blob.js'

/**
 * The conformance kit's own reading of spec 15.6 (scripts/conformance/blob.ts, written apart
 * from the node's blob code) against spec/vectors/blob.json: if the kit read the spec wrong,
 * its checks of an implementation under test would be wrong too.
 */

interface VectorChunk { index: number, nonce: string, sealed?: string, sealed_length?: number, sealed_sha256?: string, tag?: string }
interface VectorBlob { name: string, file: string, attachment: { blob: string, size: number, sha256: string, key: string }, aad: string, chunks: VectorChunk[] }
interface VectorFailure { name: string, input: { key: string, size: number, index: number, sealed?: string, sealed_of?: { blob: number, chunk: number } }, error: string }
interface VectorFrame { message: string, value: { blob: string, proof?: string } }
interface Vectors { device: { peer_id: string }, blobs: VectorBlob[], frames: VectorFrame[], failures: VectorFailure[] }

const b = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'))
const h = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
/** The vectors' file_pattern: byte i is (i * 7 + 3) mod 251. */
const pattern = (size: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) % 251)

describe('conformance kit: its reading of the blob sealing (spec 15.6)', () => {
  let vectors: Vectors
  before(async () => {
    vectors = JSON.parse(await readFile(new URL('../../spec/vectors/blob.json', import.meta.url), 'utf8')) as Vectors
  })

  it('seals every vector blob to the recorded chunks, which open to the file', () => {
    for (const v of vectors.blobs) {
      const file = v.file === 'file_pattern' ? pattern(v.attachment.size) : b(v.file)
      const key = b(v.attachment.key)
      assert.equal(h(sha256(file)), v.attachment.sha256, v.name)
      assert.equal(h(chunkAad(file.byteLength)), v.aad, v.name)
      const sealed = sealFile(key, file)
      assert.equal(sealed.length, v.chunks.length, v.name)
      assert.equal(chunksOf(file.byteLength), v.chunks.length, v.name)
      v.chunks.forEach((c, i) => {
        assert.equal(h(chunkNonce(i)), c.nonce, `${v.name}: nonce ${i}`)
        if (c.sealed !== undefined) assert.equal(h(sealed[i]), c.sealed, `${v.name}: chunk ${i}`)
        else {
          assert.equal(sealed[i].byteLength, c.sealed_length, `${v.name}: chunk ${i}'s length`)
          assert.equal(h(sha256(sealed[i])), c.sealed_sha256, `${v.name}: chunk ${i}'s SHA-256`)
        }
      })
      const opened = sealed.map((s, i) => openChunk(key, file.byteLength, i, s))
      assert.equal(h(Buffer.concat(opened.map(o => o ?? new Uint8Array(0)))), h(file), `${v.name}: the chunks open to the file`)
    }
  })

  it('opens none of the vectors\' failing chunks', () => {
    const pieces = vectors.blobs.map(v => sealFile(b(v.attachment.key), v.file === 'file_pattern' ? pattern(v.attachment.size) : b(v.file)))
    assert.ok(vectors.failures.length >= 5)
    for (const c of vectors.failures) {
      const { input } = c
      const sealed = input.sealed !== undefined ? b(input.sealed) : pieces[input.sealed_of!.blob][input.sealed_of!.chunk]
      assert.equal(openChunk(b(input.key), input.size, input.index, sealed), undefined, c.name)
    }
    // and a chunk in its place does open: the failures are not the kit refusing everything
    const v = vectors.blobs[1]
    assert.notEqual(openChunk(b(v.attachment.key), v.attachment.size, 0, b(v.chunks[0].sealed as string)), undefined)
  })

  it('makes the vectors\' proofs for their device, and others for another PeerId', () => {
    const keys = new Map(vectors.blobs.map(v => [v.attachment.blob, b(v.attachment.key)]))
    const requests = vectors.frames.filter(f => f.message === 'BlobRequest')
    assert.ok(requests.length >= 2)
    for (const f of requests) {
      const key = keys.get(f.value.blob) as Uint8Array
      assert.equal(h(blobProof(key, b(vectors.device.peer_id))), f.value.proof)
      assert.notEqual(h(blobProof(key, b(vectors.device.peer_id).fill(1, 10, 11))), f.value.proof)
    }
  })
})
