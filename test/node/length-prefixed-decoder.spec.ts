import assert from 'node:assert/strict'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * scripts/patches/@libp2p+utils+*.patch: the decoder Noise splits every connection's input with
 * stops when its buffer is used up, instead of asking its length reader, which throws a
 * RangeError for fewer bytes than a length prefix: one Error and its stack trace for every
 * socket chunk on every connection (~5 µs by itself, docs/BENCHMARKS.md). These tests fail
 * if the installed @libp2p/utils lacks the patch, or if it changed what the decoder yields.
 */
describe('node: the patched LengthPrefixedDecoder of @libp2p/utils', () => {
  /** A 2-byte big-endian length, as Noise reads its messages' lengths; counts reads of an empty buffer. */
  const reader = (): { decoder: LengthPrefixedDecoder, emptyReads: () => number } => {
    let empty = 0
    const lengthDecoder = (data: Uint8Array | Uint8ArrayList): number => {
      if (data.byteLength === 0) empty++
      if (data.byteLength < 2) throw new RangeError('Could not decode int16BE')
      return data instanceof Uint8Array ? (data[0] << 8) | data[1] : data.getUint16(0)
    }
    return { decoder: new LengthPrefixedDecoder({ lengthDecoder, encodingLength: () => 2 }), emptyReads: () => empty }
  }
  const frame = (body: number[]): number[] => [body.length >> 8, body.length & 0xff, ...body]
  const bodies = [[1, 2, 3], Array.from({ length: 300 }, (_, i) => i & 0xff), [9]]
  const wire = Uint8Array.from(bodies.flatMap(frame))

  it('yields every frame of a chunk without reading a length from an empty buffer', () => {
    const { decoder, emptyReads } = reader()
    const out = [...decoder.decode(wire)].map(list => [...list.subarray()])
    assert.deepEqual(out, bodies)
    assert.equal(emptyReads(), 0)
  })

  it('yields the same frames wherever the input is split, a length prefix included', () => {
    for (let cut = 0; cut <= wire.byteLength; cut++) {
      const { decoder } = reader()
      const out = [...decoder.decode(wire.subarray(0, cut)), ...decoder.decode(wire.subarray(cut))].map(list => [...list.subarray()])
      assert.deepEqual(out, bodies, `split at ${cut}`)
    }
  })
})
