import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, MAX_VARINT_BYTES } from '../../src/protocol/constants.js'
import { ErrorCode, isTmtpError } from '../../src/protocol/errors.js'
import { FrameDecoder, decodeFrames, encodeFrame, encodeFrames } from '../../src/protocol/framing.js'
import { splitAt } from '../support/arbitraries.js'
import { bytesOf, onlyTmtpErrors, throwsTmtp } from '../support/assertions.js'

function frameOf (length: number, fill = 0xab): Uint8Array {
  return new Uint8Array(length).fill(fill)
}

/** Unsigned LEB128, minimal: the reference the prefix bytes are checked against. */
function varint (value: number): number[] {
  const out: number[] = []
  do {
    let b = value % 128
    value = Math.floor(value / 128)
    if (value > 0) b |= 0x80
    out.push(b)
  } while (value > 0)
  return out
}

function concat (...parts: Array<Uint8Array | number[]>): Uint8Array {
  return Uint8Array.from(parts.flatMap(p => [...p]))
}

interface Outcome {
  frames: Uint8Array[]
  error?: ErrorCode
  /** The error was raised by end(), so every complete frame was handed out before it. */
  atEnd?: boolean
}

/** Feeds chunks to a FrameDecoder as a stream would, then ends the stream. */
function runDecoder (chunks: Uint8Array[], maxFrameSize: number): Outcome {
  const decoder = new FrameDecoder(maxFrameSize)
  const frames: Uint8Array[] = []
  for (const chunk of chunks) {
    try {
      frames.push(...decoder.push(chunk))
    } catch (err) {
      assert.ok(isTmtpError(err), `push threw ${String(err)}`)
      return { frames, error: err.code }
    }
    assert.ok(decoder.pending <= maxFrameSize + MAX_VARINT_BYTES, `decoder holds ${decoder.pending} bytes`)
  }
  try {
    decoder.end()
  } catch (err) {
    assert.ok(isTmtpError(err), `end threw ${String(err)}`)
    return { frames, error: err.code, atEnd: true }
  }
  return { frames }
}

/** An independent model of spec "Framing", reading a whole stream at once. */
function model (data: Uint8Array, maxFrameSize: number): Outcome {
  const frames: Uint8Array[] = []
  let pos = 0
  while (pos < data.byteLength) {
    let length = -1
    let prefix = 0
    let value = 0
    for (let i = 0; i < 5; i++) {
      if (pos + i >= data.byteLength) return { frames, error: ErrorCode.BAD_FRAME, atEnd: true }
      const b = data[pos + i]
      value += (b & 0x7f) * 2 ** (7 * i)
      if (b < 0x80) {
        if (i > 0 && b === 0) return { frames, error: ErrorCode.BAD_FRAME }
        if (value > maxFrameSize) return { frames, error: ErrorCode.FRAME_TOO_LARGE }
        length = value
        prefix = i + 1
        break
      }
      if (value > maxFrameSize) return { frames, error: ErrorCode.FRAME_TOO_LARGE }
    }
    if (length < 0) return { frames, error: ErrorCode.BAD_FRAME }
    if (pos + prefix + length > data.byteLength) return { frames, error: ErrorCode.BAD_FRAME, atEnd: true }
    frames.push(data.subarray(pos + prefix, pos + prefix + length))
    pos += prefix + length
  }
  return { frames }
}

describe('protocol/framing', () => {
  describe('encodeFrame / encodeFrames', () => {
    it('prefixes a frame with its length as a minimal unsigned varint', () => {
      for (const length of [0, 1, 127, 128, 255, 300, 16383, 16384, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE]) {
        const frame = frameOf(length, length & 0xff)
        const encoded = encodeFrame(frame)
        const prefix = varint(length)
        assert.deepEqual([...encoded.subarray(0, prefix.length)], prefix, `prefix of ${length}`)
        assert.equal(encoded.byteLength, prefix.length + length)
        assert.deepEqual(encoded.subarray(prefix.length), frame)
      }
      assert.deepEqual(encodeFrame(new Uint8Array(0)), bytesOf(0))
      assert.deepEqual(encodeFrame(bytesOf(7)), bytesOf(1, 7))
      assert.deepEqual(encodeFrame(frameOf(128)).subarray(0, 2), bytesOf(0x80, 0x01))
      assert.deepEqual(encodeFrame(frameOf(MAX_FRAME_SIZE)).subarray(0, 3), bytesOf(0x80, 0x80, 0x08))
    })

    it('concatenates several frames into one buffer', () => {
      const frames = [bytesOf(1, 2, 3), new Uint8Array(0), frameOf(200), bytesOf(9)]
      assert.deepEqual(encodeFrames(frames), concat(...frames.map(encodeFrame)))
      assert.deepEqual(encodeFrames([]), new Uint8Array(0))
    })
  })

  describe('FrameDecoder', () => {
    it('decodes frames whose length sits on every varint boundary', () => {
      for (const length of [0, 1, 127, 128, 16383, 16384, MAX_FRAME_SIZE - 1, MAX_FRAME_SIZE]) {
        const frame = frameOf(length, 0x5a)
        const frames = new FrameDecoder(MAX_FRAME_SIZE).push(encodeFrame(frame))
        assert.equal(frames.length, 1, `length ${length}`)
        assert.deepEqual(frames[0], frame)
      }
    })

    it('accepts a frame of exactly the limit and refuses one byte more', () => {
      for (const max of [0, 1, 127, 128, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE]) {
        assert.equal(new FrameDecoder(max).push(encodeFrame(frameOf(max))).length, 1)
        throwsTmtp(() => new FrameDecoder(max).push(encodeFrame(frameOf(max + 1))), ErrorCode.FRAME_TOO_LARGE)
      }
    })

    it('decodes frames split at every position', () => {
      const frames = [bytesOf(1, 2, 3), new Uint8Array(0), frameOf(128, 7), frameOf(300, 8), bytesOf(0xff)]
      const stream = encodeFrames(frames)
      for (let cut = 0; cut <= stream.byteLength; cut++) {
        const got = runDecoder([stream.subarray(0, cut), stream.subarray(cut)], MAX_FRAME_SIZE)
        assert.equal(got.error, undefined)
        assert.deepEqual(got.frames, frames, `cut at ${cut}`)
      }
      for (let a = 0; a <= stream.byteLength; a += 7) {
        for (let b = a; b <= stream.byteLength; b += 11) {
          const got = runDecoder(splitAt(stream, [a, b]), MAX_FRAME_SIZE)
          assert.deepEqual(got.frames, frames, `cuts at ${a} and ${b}`)
        }
      }
    })

    it('decodes a stream fed one byte at a time', () => {
      const frames = [frameOf(130, 1), bytesOf(), bytesOf(4, 5)]
      const stream = encodeFrames(frames)
      const decoder = new FrameDecoder(MAX_FRAME_SIZE)
      const got: Uint8Array[] = []
      for (let i = 0; i < stream.byteLength; i++) {
        got.push(...decoder.push(stream.subarray(i, i + 1)))
        if (i === 0) assert.equal(decoder.pending, 1)
        if (i === 1) assert.equal(decoder.pending, 2, 'a complete prefix with no body yet stays pending')
      }
      assert.deepEqual(got, frames)
      assert.equal(decoder.pending, 0)
      decoder.end()
    })

    it('returns every frame of a chunk holding several, and keeps the partial rest', () => {
      const frames = [bytesOf(1), bytesOf(2, 2), bytesOf(3, 3, 3)]
      const stream = concat(encodeFrames(frames), [5, 0xaa, 0xbb])
      const decoder = new FrameDecoder(16)
      assert.deepEqual(decoder.push(stream), frames)
      assert.equal(decoder.pending, 3)
      assert.deepEqual(decoder.push(bytesOf(0xcc, 0xdd, 0xee, 2)), [bytesOf(0xaa, 0xbb, 0xcc, 0xdd, 0xee)])
      assert.equal(decoder.pending, 1)
      assert.deepEqual(decoder.push(bytesOf(8, 9)), [bytesOf(8, 9)])
      decoder.end()
    })

    it('accepts Uint8ArrayList chunks', () => {
      const stream = encodeFrames([bytesOf(1, 2), bytesOf(3)])
      const list = new Uint8ArrayList(stream.subarray(0, 2), stream.subarray(2))
      assert.deepEqual(new FrameDecoder(8).push(list), [bytesOf(1, 2), bytesOf(3)])
    })

    it('hands out frames that later input does not change', () => {
      const decoder = new FrameDecoder(8)
      const [first] = decoder.push(bytesOf(2, 1, 2, 3))
      decoder.push(bytesOf(9, 9))
      assert.deepEqual(first, bytesOf(1, 2))
    })

    it('rejects an oversize length prefix with only the prefix fed (FRAME_TOO_LARGE)', () => {
      for (const max of [MAX_FRAME_SIZE, MAX_CONTROL_FRAME_SIZE, 200, 0]) {
        const decoder = new FrameDecoder(max)
        throwsTmtp(() => decoder.push(Uint8Array.from(varint(max + 1))), ErrorCode.FRAME_TOO_LARGE)
      }
      // a huge declared length is refused long before any of the body arrives
      throwsTmtp(() => new FrameDecoder(MAX_FRAME_SIZE).push(Uint8Array.from(varint(2 ** 32))), ErrorCode.FRAME_TOO_LARGE)
    })

    it('rejects an oversize prefix before the prefix itself has ended', () => {
      // 0xff 0xff 0xff (continuation still set) already means at least 2^21 - 1 > 128 KiB
      const decoder = new FrameDecoder(MAX_FRAME_SIZE)
      assert.deepEqual(decoder.push(bytesOf(0xff, 0xff)), [])
      throwsTmtp(() => decoder.push(bytesOf(0xff)), ErrorCode.FRAME_TOO_LARGE)
      // for the 16 KiB control limit, a third byte of 0x82 (continuation set) means at least 2^15
      const control = new FrameDecoder(MAX_CONTROL_FRAME_SIZE)
      assert.deepEqual(control.push(bytesOf(0x80, 0x80)), [])
      throwsTmtp(() => control.push(bytesOf(0x82)), ErrorCode.FRAME_TOO_LARGE)
    })

    it('waits for the rest of a prefix that may still fit', () => {
      const decoder = new FrameDecoder(MAX_FRAME_SIZE)
      assert.deepEqual(decoder.push(bytesOf(0x80, 0x80)), [])
      assert.equal(decoder.pending, 2)
      assert.deepEqual(decoder.push(bytesOf(0x08)), [])
      assert.equal(decoder.pending, 3)
      throwsTmtp(() => decoder.end(), ErrorCode.BAD_FRAME)
    })

    it('rejects a non-minimal length prefix (BAD_FRAME)', () => {
      for (const prefix of [[0x80, 0x00], [0x81, 0x00], [0xff, 0x00], [0x80, 0x80, 0x00], [0x83, 0x80, 0x00], [0x80, 0x80, 0x80, 0x00]]) {
        throwsTmtp(() => new FrameDecoder(MAX_FRAME_SIZE).push(Uint8Array.from([...prefix, 1, 2, 3])), ErrorCode.BAD_FRAME)
      }
      // a single 0x00 is the minimal encoding of an empty frame
      assert.deepEqual(new FrameDecoder(MAX_FRAME_SIZE).push(bytesOf(0)), [new Uint8Array(0)])
    })

    it('rejects a length prefix of more than five bytes (BAD_FRAME)', () => {
      // with a limit large enough that the value alone never decides
      const decoder = new FrameDecoder(2 ** 40)
      assert.deepEqual(decoder.push(bytesOf(0x80, 0x80, 0x80, 0x80)), [])
      throwsTmtp(() => decoder.push(bytesOf(0x80)), ErrorCode.BAD_FRAME)
      throwsTmtp(() => new FrameDecoder(2 ** 40).push(bytesOf(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)), ErrorCode.BAD_FRAME)
      // at the protocol limits a six-byte prefix fails one way or the other, never as a frame
      throwsTmtp(() => new FrameDecoder(MAX_FRAME_SIZE).push(bytesOf(0x80, 0x80, 0x80, 0x80, 0x80, 0x00)), ErrorCode.BAD_FRAME)
      throwsTmtp(() => new FrameDecoder(MAX_FRAME_SIZE).push(bytesOf(0x81, 0x80, 0x80, 0x80, 0x80, 0x01)), [ErrorCode.BAD_FRAME, ErrorCode.FRAME_TOO_LARGE])
    })

    it('reports a frame truncated by the end of the stream (BAD_FRAME at end())', () => {
      const stream = encodeFrames([bytesOf(1, 2, 3), frameOf(200)])
      for (let cut = 1; cut < stream.byteLength; cut++) {
        if (cut === 4) continue // a frame boundary
        const decoder = new FrameDecoder(MAX_FRAME_SIZE)
        decoder.push(stream.subarray(0, cut))
        assert.ok(decoder.pending > 0)
        throwsTmtp(() => decoder.end(), ErrorCode.BAD_FRAME)
      }
      const decoder = new FrameDecoder(MAX_FRAME_SIZE)
      decoder.push(stream)
      decoder.end()
      new FrameDecoder(MAX_FRAME_SIZE).end()
    })
  })

  describe('decodeFrames', () => {
    it('decodes a buffer of whole frames', () => {
      const frames = [bytesOf(1), new Uint8Array(0), frameOf(1000)]
      assert.deepEqual(decodeFrames(encodeFrames(frames), MAX_FRAME_SIZE), frames)
      assert.deepEqual(decodeFrames(new Uint8Array(0), MAX_FRAME_SIZE), [])
    })

    it('refuses trailing bytes, oversize frames and bad prefixes', () => {
      throwsTmtp(() => decodeFrames(concat(encodeFrame(bytesOf(1)), [3, 1]), MAX_FRAME_SIZE), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeFrames(concat(encodeFrame(bytesOf(1)), [0x80]), MAX_FRAME_SIZE), ErrorCode.BAD_FRAME)
      throwsTmtp(() => decodeFrames(encodeFrame(frameOf(17)), 16), ErrorCode.FRAME_TOO_LARGE)
      throwsTmtp(() => decodeFrames(bytesOf(0x80, 0x00), 16), ErrorCode.BAD_FRAME)
    })
  })

  describe('properties', () => {
    const maxFrameSize = fc.constantFrom(0, 1, 5, 127, 128, 300, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE)
    const cuts = fc.array(fc.nat({ max: 4000 }), { maxLength: 12 })

    it('decodes any list of frames fed in any chunking', () => {
      const frames = fc.array(fc.oneof(
        { weight: 6, arbitrary: fc.uint8Array({ maxLength: 140 }) },
        { weight: 1, arbitrary: fc.integer({ min: 16380, max: 16390 }).map(n => frameOf(n, n & 0xff)) }
      ), { maxLength: 8 })
      fc.assert(fc.property(frames, cuts, (list, cutPoints) => {
        const stream = encodeFrames(list)
        const got = runDecoder(splitAt(stream, cutPoints.map(c => c % (stream.byteLength + 1))), MAX_FRAME_SIZE)
        assert.equal(got.error, undefined)
        assert.deepEqual(got.frames, list)
        assert.deepEqual(decodeFrames(stream, MAX_FRAME_SIZE), list)
      }), { numRuns: 150 })
    })

    it('on any bytes in any chunking, agrees with the model and throws only TmtpErrors', () => {
      const data = fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        // mostly-valid streams with a few bytes changed: reaches frames after the first
        fc.tuple(fc.array(fc.uint8Array({ maxLength: 130 }), { maxLength: 6 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }))
          .map(([list, edits]) => {
            const stream = encodeFrames(list)
            for (const [at, value] of edits) if (stream.byteLength > 0) stream[at % stream.byteLength] = value
            return stream
          })
      )
      fc.assert(fc.property(data, cuts, maxFrameSize, (bytes, cutPoints, max) => {
        const expected = model(bytes, max)
        const got = runDecoder(splitAt(bytes, cutPoints.map(c => c % (bytes.byteLength + 1))), max)
        assert.equal(got.error, expected.error)
        if (got.error === undefined || got.atEnd === true) {
          assert.deepEqual(got.frames, expected.frames)
        } else {
          // a push that throws loses the frames completed within that same chunk
          assert.ok(got.frames.length <= expected.frames.length)
          assert.deepEqual(got.frames, expected.frames.slice(0, got.frames.length))
        }
        onlyTmtpErrors(() => decodeFrames(bytes, max))
      }), { numRuns: 400 })
    })
  })
})
