import { decodeMessage as decodeProtobuf, encodeMessage as encodeProtobuf } from 'protons-runtime'
import { ErrorCode } from './pb/tmtp.js'

export { ErrorCode }

/**
 * The one error type of the protocol layers. `code` is the spec's stable error code
 * (spec/tmtp.md, "Error codes"): callers match on it, never on the message text.
 */
export class TmtpError extends Error {
  override readonly name = 'TmtpError'
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

export function isTmtpError (err: unknown, code?: ErrorCode): err is TmtpError {
  return err instanceof TmtpError && (code === undefined || err.code === code)
}

/** The number that carries a code on the wire (the ErrorCode enum of spec/tmtp.proto). */
export function codeToWire (code: ErrorCode): number {
  return encodeProtobuf(code, ErrorCode.codec())[0]
}

/**
 * A code received from a peer. Codes travel as uint32 so that one this node does not know
 * can still be read: it counts as INTERNAL (spec: "Versioning").
 */
export function codeFromWire (value: number): ErrorCode {
  if (!Number.isInteger(value) || value < 0 || value > 127) return ErrorCode.INTERNAL
  try {
    return decodeProtobuf(Uint8Array.of(value), ErrorCode.codec())
  } catch {
    return ErrorCode.INTERNAL
  }
}
