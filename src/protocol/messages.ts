import { ErrorCode, TmtpError } from './errors.js'
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
    return codec.decode(bytes, opts)
  } catch (err) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `malformed ${what}: ${(err as Error).message}`, { cause: err })
  }
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
  if (value.length > max || encoder.encode(value).byteLength > max) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `${what} exceeds ${max} bytes`)
  }
}
