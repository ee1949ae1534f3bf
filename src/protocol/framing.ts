import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_VARINT_BYTES } from './constants.js'
import { ErrorCode, TmtpError } from './errors.js'

/**
 * Frames are an unsigned-varint length prefix followed by that many bytes (spec: "Framing").
 * Several frames may be concatenated into one transport write: that is what makes
 * windowed delivery cheap, so encodeFrames builds one buffer for many frames.
 */
export function encodeFrame (frame: Uint8Array): Uint8Array {
  return encodeFrames([frame])
}

export function encodeFrames (frames: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const f of frames) total += varint.encodingLength(f.byteLength) + f.byteLength
  const out = new Uint8Array(total)
  let offset = 0
  for (const f of frames) {
    varint.encode(f.byteLength, out, offset)
    offset += varint.encodingLength(f.byteLength)
    out.set(f, offset)
    offset += f.byteLength
  }
  return out
}

/**
 * Incremental frame decoder. It rejects an oversize length prefix as soon as the prefix is
 * read, before buffering the body, so a peer cannot make it hold more than
 * maxFrameSize + MAX_VARINT_BYTES bytes.
 */
export class FrameDecoder {
  private readonly buffer = new Uint8ArrayList()
  private readonly maxFrameSize: number

  constructor (maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize
  }

  /** Feeds bytes and returns every frame now complete. Throws FRAME_TOO_LARGE or BAD_FRAME. */
  push (chunk: Uint8Array | Uint8ArrayList): Uint8Array[] {
    this.buffer.append(chunk)
    const frames: Uint8Array[] = []
    for (;;) {
      const header = this.readLength()
      if (header == null) break
      const [length, prefixBytes] = header
      if (this.buffer.byteLength < prefixBytes + length) break
      frames.push(this.buffer.subarray(prefixBytes, prefixBytes + length))
      this.buffer.consume(prefixBytes + length)
    }
    return frames
  }

  /** Bytes of an incomplete frame still held. */
  get pending (): number {
    return this.buffer.byteLength
  }

  /** Call at end of stream: a partial frame left over is a truncated frame. */
  end (): void {
    if (this.buffer.byteLength > 0) {
      throw new TmtpError(ErrorCode.BAD_FRAME, `stream ended inside a frame (${this.buffer.byteLength} bytes left)`)
    }
  }

  private readLength (): [number, number] | undefined {
    let value = 0
    const available = Math.min(this.buffer.byteLength, MAX_VARINT_BYTES)
    for (let i = 0; i < available; i++) {
      const byte = this.buffer.get(i)
      value += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) throw new TmtpError(ErrorCode.BAD_FRAME, 'length prefix is not minimally encoded')
        if (value > this.maxFrameSize) {
          throw new TmtpError(ErrorCode.FRAME_TOO_LARGE, `frame of ${value} bytes exceeds the limit of ${this.maxFrameSize}`)
        }
        return [value, i + 1]
      }
      if (value > this.maxFrameSize) {
        throw new TmtpError(ErrorCode.FRAME_TOO_LARGE, `frame length exceeds the limit of ${this.maxFrameSize}`)
      }
    }
    if (available === MAX_VARINT_BYTES) throw new TmtpError(ErrorCode.BAD_FRAME, 'length prefix longer than 5 bytes')
    return undefined
  }
}

/** Decodes a buffer that must hold exactly whole frames (test vectors, one-shot reads). */
export function decodeFrames (bytes: Uint8Array, maxFrameSize: number): Uint8Array[] {
  const decoder = new FrameDecoder(maxFrameSize)
  const frames = decoder.push(bytes)
  decoder.end()
  return frames
}
